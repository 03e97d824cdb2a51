# SPDX-License-Identifier: Apache-2.0
"""Who talked to whom: every transaction names its TCP connection (socket cookie, local and
remote address and port), on both the client's and the server's side, for IPv4 and IPv6, and
every connection has open and close records with its role and byte counts."""
import ipaddress

import pytest

import harness
from test_http import nginx, run_curl, transactions  # noqa: F401 (fixture)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_parallel_keepalive_connections(cleartap, nginx, host):
    port, _ = nginx
    cleartap.start_loader()
    cleartap.start_collector()
    url_host = f"[{host}]" if ":" in host else host
    urls = [f"https://{url_host}:{port}/hello.txt?{i}" for i in range(6)]
    curl = run_curl("--http1.1", "--parallel", "--parallel-max", "3", *urls)
    records = cleartap.stop_collector()
    conns = harness.connections(records)
    client = {t["path"]: t for t in transactions(records, curl)}
    server = {t["path"]: t for t in transactions(records)
              if t["process"]["comm"] == "nginx" and t["authority"].endswith(f":{port}")}
    assert sorted(client) == sorted(server) == sorted(f"/hello.txt?{i}" for i in range(6))
    address = str(ipaddress.ip_address(host))
    for path, c in client.items():
        s = server[path]
        assert c["remote"] == {"address": address, "port": port}
        assert s["local"] == {"address": address, "port": port}
        assert c["local"] == s["remote"] and c["local"]["address"] == address
        assert c["connectionId"] != s["connectionId"]  # two sockets, two cookies
        # the kernel's open records say who connected and who accepted
        [c_open] = [x for x in conns[c["connectionId"]] if harness.is_open(x)]
        [s_open] = [x for x in conns[s["connectionId"]] if harness.is_open(x)]
        assert (c_open["role"], c_open["pid"]) == ("ROLE_CLIENT", curl)
        assert s_open["role"] == "ROLE_SERVER"
        assert c_open["local"] == c["local"] and c_open["remote"] == c["remote"]
    # several connections, each kept alive for more than one exchange when curl reused it
    ids = {c["connectionId"] for c in client.values()}
    assert 1 <= len(ids) <= 3
    for cid in ids:
        [opened] = [x for x in conns[cid] if harness.is_open(x)]
        [closed] = [x for x in conns[cid] if x.get("closed")]
        assert int(closed["bytesSent"]) > 0 and int(closed["bytesReceived"]) > 0
        assert closed["local"] == opened["local"]  # the close keeps the open's endpoints
    assert int(harness.final_stats(records)["collector"]["connections"]) >= 2 * len(ids)


def test_raw_data_names_its_connection(cleartap, nginx):
    port, _ = nginx
    cleartap.start_loader()
    cleartap.start_collector()
    curl = run_curl("--http1.1", f"https://127.0.0.1:{port}/hello.txt")
    records = cleartap.stop_collector()
    data = harness.tls_data(records, curl)
    assert data and len({d["connectionId"] for d in data}) == 1
    for d in data:
        assert d["remote"] == {"address": "127.0.0.1", "port": port}
