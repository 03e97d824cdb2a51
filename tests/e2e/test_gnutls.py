# SPDX-License-Identifier: Apache-2.0
"""GnuTLS: gnutls-cli's plaintext through gnutls_record_send/recv, byte-exact, with its
transaction and connection."""
import base64
import subprocess

import harness
from harness import stream, tls_data
from test_http import nginx, transactions  # noqa: F401 (fixture)


def test_gnutls_cli(cleartap, nginx):
    port, _ = nginx
    cleartap.start_loader()
    assert "(gnutls, 3 functions)" in cleartap.loader_log()
    cleartap.start_collector()
    request = (f"GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               "Connection: close\r\n\r\n").encode()
    p = subprocess.Popen(["gnutls-cli", "--insecure", "-p", str(port), "127.0.0.1"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    out, _ = p.communicate(request, timeout=30)
    assert b"hello from nginx" in out
    records = cleartap.stop_collector()
    assert stream(records, p.pid, "DIRECTION_WRITE") == request
    received = stream(records, p.pid, "DIRECTION_READ")
    assert received.startswith(b"HTTP/1.1 200 OK\r\n") and received.endswith(
        b"\r\n\r\nhello from nginx\n")
    assert {d["function"] for d in tls_data(records, p.pid)} == {"gnutls_record_send",
                                                                 "gnutls_record_recv"}
    [t] = transactions(records, p.pid)
    assert (t["method"], t["path"], t["status"]) == ("GET", "/hello.txt", 200)
    assert harness.body(t, "responseBody") == b"hello from nginx\n"
    assert t["process"]["comm"] == "gnutls-cli"
    assert t["remote"] == {"address": "127.0.0.1", "port": port}
    harness.assert_accounted(harness.final_stats(records))
