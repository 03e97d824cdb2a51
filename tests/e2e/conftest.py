# SPDX-License-Identifier: Apache-2.0
import pytest

import harness


@pytest.fixture
def cleartap():
    harness.require_bpf()
    ct = harness.Cleartap()
    try:
        yield ct
    finally:
        ct.close()


@pytest.fixture
def tls_cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("cert")
    import subprocess
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(d / "key.pem"), "-out", str(d / "cert.pem"), "-days", "2", "-subj",
                    "/CN=localhost"], check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"
