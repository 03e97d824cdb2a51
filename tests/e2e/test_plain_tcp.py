# SPDX-License-Identifier: Apache-2.0
"""Plain TCP, captured from socket system calls into the same records as TLS plaintext: curl and
Python against nginx without TLS. Bytes that never pass through user memory (sendfile) are a
counted gap of their exact size; ciphertext is never emitted as data."""
import os
import subprocess

import pytest

import harness
from test_http import (BIG, PYTHON, body, check_keepalive_exchange, curl_keepalive, nginx,  # noqa: F401
                       run_curl, start_nginx, transactions)

PAYLOAD = b"\x00\x01binary\xffbody" * 100
SYSCALLS = {"read", "write", "readv", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg"}


@pytest.fixture
def plain_nginx(cleartap):
    """nginx without TLS; /sf/ is served with sendfile (file pages go straight to the socket)."""
    port = harness.free_port()
    proc, etag = start_nginx(cleartap, f"""listen 127.0.0.1:{port};
    sendfile off;
    location /sf/ {{ sendfile on; gzip off; alias {cleartap.dir}/www/; }}""",
                             f"http://127.0.0.1:{port}/")
    yield port, etag
    proc.terminate()
    proc.wait(timeout=10)


def test_plain_http_keepalive(cleartap, plain_nginx):
    port, etag = plain_nginx
    cleartap.start_loader()
    cleartap.start_collector()
    curl = curl_keepalive(port, etag, "--http1.1", scheme="http")
    records = cleartap.stop_collector()
    mine = transactions(records, curl)
    check_keepalive_exchange(mine, port, "HTTP/1.1", server_side=False, scheme="http")
    served = [t for t in transactions(records) if t["process"]["comm"] == "nginx"
              and t.get("remote", {}).get("port") == mine[0]["local"]["port"]]
    check_keepalive_exchange(served, port, "HTTP/1.1", server_side=True, scheme="http")
    # the same record shape as TLS plaintext: the syscall names the function
    data = harness.tls_data(records, curl)
    assert data and {d["function"] for d in data} <= SYSCALLS
    assert {d["connectionId"] for d in data} == {mine[0]["connectionId"]}
    sent = harness.stream(records, curl, "DIRECTION_WRITE")
    assert sent.startswith(b"GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port)
    assert sent.count(b"HTTP/1.1\r\n") == 4 and b"\r\n\r\na=1&b=2" in sent
    # the connection says what it carried, and its close ends the streams
    cid = mine[0]["connectionId"]
    [closed] = [c for c in harness.connections(records)[cid] if c.get("closed")]
    assert closed["plaintext"] is True and "tls" not in closed
    assert int(closed["bytesSent"]) == len(sent)
    harness.assert_accounted(harness.final_stats(records))


def test_python_plain_server_and_client(cleartap):
    """Python's http.server answers with sendall (sendto) and reads with recv_into."""
    root = cleartap.dir / "py"
    root.mkdir()
    (root / "f.txt").write_bytes(PAYLOAD)
    port = harness.free_port()
    server = subprocess.Popen([PYTHON, "-m", "http.server", "-b", "127.0.0.1", "-d", str(root),
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        harness.wait_for(lambda: subprocess.run(["curl", "-s", f"http://127.0.0.1:{port}/"],
                                                capture_output=True).returncode == 0,
                         what="http.server to listen")
        cleartap.start_loader()
        cleartap.start_collector()
        client = subprocess.Popen([PYTHON, "-c", f"""
import urllib.request
assert urllib.request.urlopen("http://127.0.0.1:{port}/f.txt").read() == {PAYLOAD!r}
"""])
        assert client.wait(timeout=30) == 0
        records = cleartap.stop_collector()
    finally:
        server.terminate()
        server.wait(timeout=10)
    for pid, side in ((client.pid, False), (server.pid, True)):
        [t] = transactions(records, pid)
        assert (t["method"], t["path"], t["status"], t["scheme"]) == ("GET", "/f.txt", 200, "http")
        assert body(t) == PAYLOAD and "error" not in t
        assert t.get("serverSide", False) is side


def test_sendfile_is_a_gap_of_its_size(cleartap, plain_nginx):
    port, _ = plain_nginx
    cleartap.start_loader()
    cleartap.start_collector("--body-limit", str(len(BIG)))
    url = f"http://127.0.0.1:{port}"
    curl = run_curl("--http1.1", f"{url}/sf/big.txt", "--next", "-s", f"{url}/hello.txt")
    records = cleartap.stop_collector()
    # curl reads every byte from its socket
    big, hello = transactions(records, curl)
    assert body(big) == BIG.encode() and "gapBytes" not in big
    assert body(hello) == b"hello from nginx\n"
    # nginx sent the file with sendfile: the stream jumps by exactly its size, and says so
    served = [t for t in transactions(records) if t["process"]["comm"] == "nginx"
              and t.get("remote", {}).get("port") == big["local"]["port"]]
    assert [(t["path"], t["status"]) for t in served] == [("/sf/big.txt", 200),
                                                         ("/hello.txt", 200)]
    assert served[0]["gapBytes"] == str(len(BIG)) and "responseBody" not in served[0]
    assert body(served[1]) == b"hello from nginx\n" and "gapBytes" not in served[1]
    nginx_pid = served[0]["process"]["pid"]
    gaps = [d for d in harness.tls_data(records, nginx_pid)
            if d["direction"] == "DIRECTION_WRITE" and d.get("gapBeforeBytes")]
    assert [d["gapBeforeBytes"] for d in gaps] == [str(len(BIG))]
    stats = harness.final_stats(records)
    assert int(stats["kernel"]["uncopiedBytes"]) >= len(BIG)


def test_tls_ciphertext_is_never_data(cleartap, nginx):
    port, _ = nginx
    cleartap.start_loader()
    cleartap.start_collector()
    curl = run_curl("--http1.1", f"https://127.0.0.1:{port}/big.txt")
    records = cleartap.stop_collector()
    served = [d for d in harness.tls_data(records) if d["process"]["comm"] == "nginx"]
    for d in harness.tls_data(records, curl) + served:
        assert d["function"] not in SYSCALLS, d
    [t] = transactions(records, curl)
    [closed] = [c for c in harness.connections(records)[t["connectionId"]] if c.get("closed")]
    assert closed["tls"] is True and "plaintext" not in closed
    stats = harness.final_stats(records)["kernel"]
    assert int(stats["helloBytes"]) > 0
