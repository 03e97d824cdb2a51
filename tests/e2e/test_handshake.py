# SPDX-License-Identifier: Apache-2.0
"""TLS handshake metadata from the hellos on the socket: server name, offered and negotiated
versions, ALPN, cipher; on both ends of curl -> nginx, and repeated on the close record."""
import pytest

import harness
from test_http import nginx, run_curl, transactions  # noqa: F401 (fixture)

NAME = "cleartap.test"
TLS13_SUITES = {4865, 4866, 4867}  # TLS_AES_128_GCM_SHA256, _256_GCM_SHA384, CHACHA20_POLY1305


def handshakes(records, cid):
    return [c for c in harness.connections(records)[cid] if c.get("handshake")]


def peer_connection(records, t):
    """The server's end of the connection of a client's transaction."""
    [server] = [r["connection"] for r in records if "connection" in r
                and r["connection"].get("role") == "ROLE_SERVER"
                and harness.is_open(r["connection"])
                and r["connection"]["remote"]["port"] == t["local"]["port"]]
    return server["id"]


@pytest.mark.parametrize("http,protocol,alpn", [
    ("--http1.1", "HTTP/1.1", ["http/1.1"]),
    ("--http2", "HTTP/2", ["h2", "http/1.1"]),
])
def test_tls13_hellos(cleartap, nginx, http, protocol, alpn):
    port, _ = nginx
    cleartap.start_loader()
    cleartap.start_collector()
    curl = run_curl(http, "--resolve", f"{NAME}:{port}:127.0.0.1",
                    f"https://{NAME}:{port}/hello.txt")
    records = cleartap.stop_collector()
    [t] = transactions(records, curl)
    assert t["protocol"] == protocol
    for cid in (t["connectionId"], peer_connection(records, t)):
        [h] = handshakes(records, cid)
        assert h["tls"] is True and h["serverName"] == NAME
        assert h["tlsVersion"] == "TLSv1.3"
        assert h["offeredTlsVersions"][0] == "TLSv1.3"
        assert "TLSv1.2" in h["offeredTlsVersions"]
        assert h["offeredAlpn"] == alpn
        assert "alpn" not in h  # TLS 1.3 sends the choice encrypted
        assert h["cipherSuite"] in TLS13_SUITES
        assert "tlsMalformed" not in h and "plaintext" not in h
        [closed] = [c for c in harness.connections(records)[cid] if c.get("closed")]
        assert closed["serverName"] == NAME and closed["tlsVersion"] == "TLSv1.3"
    # the server's end is named by the process that read its hello
    [server] = handshakes(records, peer_connection(records, t))
    assert server["pid"] != curl and server["role"] == "ROLE_SERVER"
    [client] = handshakes(records, t["connectionId"])
    assert client["pid"] == curl
    assert harness.final_stats(records)["collector"].get("malformedHellos") is None


def test_tls12_alpn_in_the_clear(cleartap, nginx):
    port, _ = nginx
    cleartap.start_loader()
    cleartap.start_collector()
    curl = run_curl("--http2", "--tlsv1.2", "--tls-max", "1.2", "--resolve",
                    f"{NAME}:{port}:127.0.0.1", f"https://{NAME}:{port}/hello.txt")
    records = cleartap.stop_collector()
    [t] = transactions(records, curl)
    assert t["protocol"] == "HTTP/2"
    for cid in (t["connectionId"], peer_connection(records, t)):
        [h] = handshakes(records, cid)
        assert (h["serverName"], h["tlsVersion"], h["alpn"]) == (NAME, "TLSv1.2", "h2")
        assert h["offeredTlsVersions"] == ["TLSv1.2"]
        assert h["offeredAlpn"] == ["h2", "http/1.1"]


def test_no_server_name_for_an_address(cleartap, nginx):
    """RFC 6066: a literal address is never sent as SNI."""
    port, _ = nginx
    cleartap.start_loader()
    cleartap.start_collector()
    curl = run_curl("--http1.1", f"https://127.0.0.1:{port}/hello.txt")
    records = cleartap.stop_collector()
    [t] = transactions(records, curl)
    [h] = handshakes(records, t["connectionId"])
    assert "serverName" not in h and h["tlsVersion"] == "TLSv1.3"
