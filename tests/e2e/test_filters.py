# SPDX-License-Identifier: Apache-2.0
"""Filters: by command name, by executable, and loopback traffic."""
import harness
from test_http import nginx, run_curl, transactions  # noqa: F401 (fixture)


def comms(records):
    return {t["process"]["comm"] for t in transactions(records)}


def test_include_and_exclude_by_command(cleartap, nginx):
    port, _ = nginx
    cleartap.start_loader()
    # Assertions hold whatever else on the host speaks TLS meanwhile.
    cleartap.start_collector("--include-comm", "curl")
    curl = run_curl("--http1.1", f"https://127.0.0.1:{port}/hello.txt")
    records = cleartap.stop_collector()
    assert comms(records) == {"curl"} and transactions(records, curl)
    cleartap.start_collector("--exclude-comm", "curl")
    run_curl("--http1.1", f"https://127.0.0.1:{port}/hello.txt")
    seen = comms(cleartap.stop_collector())
    assert "curl" not in seen and "nginx" in seen


def test_include_by_executable(cleartap, nginx):
    port, _ = nginx
    cleartap.start_loader()
    cleartap.start_collector("--include-exe", "/usr/bin/curl")
    curl = run_curl("--http1.1", f"https://127.0.0.1:{port}/hello.txt")
    records = cleartap.stop_collector()
    # nginx started before its exec could be seen: an executable filter cannot name it
    assert {t["process"].get("exe") for t in transactions(records)} == {"/usr/bin/curl"}
    assert [t["process"]["pid"] for t in transactions(records, curl)] == [curl]


def test_loopback_can_be_ignored(cleartap, nginx):
    port, _ = nginx
    cleartap.start_loader()
    cleartap.start_collector("--no-loopback")
    run_curl("--http1.1", f"https://127.0.0.1:{port}/hello.txt")
    records = cleartap.stop_collector()
    assert transactions(records) == [] and harness.tls_data(records) == []
    assert not [c for cs in harness.connections(records).values() for c in cs
                if c.get("remote", {}).get("address") in ("127.0.0.1", "::1")]
    # ...and the same traffic is shown by default
    cleartap.start_collector()
    run_curl("--http1.1", f"https://127.0.0.1:{port}/hello.txt")
    assert {"curl", "nginx"} <= comms(cleartap.stop_collector())
