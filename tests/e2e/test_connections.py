# SPDX-License-Identifier: Apache-2.0
"""Who talked to whom: every transaction names its TCP connection (socket cookie, local and
remote address and port), on both the client's and the server's side, for IPv4 and IPv6, and
every connection has open and close records with its role and byte counts."""
import base64
import ipaddress
import json
import subprocess

import pytest

import harness
from test_http import nginx, run_curl, transactions  # noqa: F401 (fixture)


# Before 5.12 tracing programs cannot ask for socket cookies: the programs make ids of their own
# (--test-hide-feature socket_cookie runs that variant here).
MADE_IDS = "no bpf_get_socket_cookie in tracing programs (Linux 5.12)"


@pytest.mark.parametrize("ids", ["cookies", "made"])
@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_parallel_keepalive_connections(cleartap, nginx, host, ids):
    port, _ = nginx
    cleartap.start_loader(*(["--test-hide-feature", "socket_cookie"] if ids == "made" else []))
    assert (MADE_IDS in cleartap.loader_log()) == (
        ids == "made" or not harness.kernel_has("socket_cookie"))
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
    for cid in ids | {s["connectionId"] for s in server.values()}:
        assert 0 < int(cid) < 0xffff800000000000  # never a kernel address
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


@pytest.mark.parametrize("ending", ["exit", "close"])
def test_close_framed_response_completes_without_ssl_free(cleartap, tls_cert, tmp_path, ending):
    """A client that never calls SSL_free (as Node and wget do): its HTTP/1.0 response, framed
    by the connection's close, comes out when the process exits, or (close) when it closes the
    socket and lives on holding the SSL object, not when the collector stops."""
    cert, key = tls_cert
    (tmp_path / "hello.txt").write_text("close-framed body\n")
    port = harness.free_port()
    server = subprocess.Popen(["openssl", "s_server", "-accept", str(port), "-cert", str(cert),
                               "-key", str(key), "-WWW", "-quiet"], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = """
import os, socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
tls = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
tls.sendall(b"GET /hello.txt HTTP/1.0\\r\\n\\r\\n")
got = b""
try:
    while chunk := tls.recv(65536):
        got += chunk
except ssl.SSLError:
    pass
if sys.argv[2] == "close":
    os.close(tls.fileno())  # the socket only: the SSL object lives on, no SSL_free
print(os.getpid(), got.endswith(b"close-framed body\\n"), flush=True)
if sys.argv[2] == "close":
    time.sleep(60)
os._exit(0)  # no SSL_free: the session ends with the process
"""
    proc = None
    try:
        cleartap.start_loader()
        collector = cleartap.start_collector()
        harness.wait_for(lambda: subprocess.run(["curl", "-sk", f"https://127.0.0.1:{port}/"],
                                                capture_output=True).returncode == 0,
                         what="s_server")
        proc = subprocess.Popen(["/usr/bin/python3", "-c", client, str(port), ending],
                                stdout=subprocess.PIPE, text=True)
        out = proc.stdout.readline().split()
        pid, complete = int(out[0]), out[1] == "True"
        assert complete
        if ending == "exit":
            proc.wait(timeout=30)

        def exported():
            lines = collector.out_path.read_bytes().splitlines()
            return [t for t in (json.loads(x).get("http") for x in lines)
                    if t and t["process"]["pid"] == pid]
        # within the reorder window after the exit, with the collector still running
        harness.wait_for(lambda: exported(), timeout=5, what="the transaction before shutdown")
        [t] = exported()
        assert (t["method"], t["path"], t["status"], t["protocol"]) == ("GET", "/hello.txt", 200,
                                                                        "HTTP/1.0")
        assert harness.body(t, "responseBody") == b"close-framed body\n"
        if ending == "close":
            assert proc.poll() is None  # it was the close, not an exit
        records = cleartap.stop_collector()
        # and not an SSL_free either: none was seen for this process
        assert not [r for r in records if r.get("tlsSessionEnd", {}).get("process", {}).get(
            "pid") == pid]
    finally:
        server.kill()
        if proc:
            proc.kill()


def test_idle_session_ends_after_idle_timeout(cleartap):
    """A connection that stays open and silent after a response framed by its close: with
    --idle-timeout 2 the session ends while both processes still hold the socket, and the
    response comes out complete, not at the collector's stop."""
    server_code = """
import os, socket, sys, time
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(1)
print(ls.getsockname()[1], flush=True)
conn = ls.accept()[0]
conn.recv(65536)
conn.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nstill open, idle\\n")
time.sleep(60)  # never closes: only the idle timeout can end it
"""
    client_code = """
import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /idle HTTP/1.0\\r\\nHost: idle.test\\r\\n\\r\\n")
got = b""
while not got.endswith(b"idle\\n"):
    got += s.recv(65536)
print(os.getpid(), flush=True)
time.sleep(60)
"""
    server = client = None
    try:
        cleartap.start_loader()
        collector = cleartap.start_collector("--idle-timeout", "2")
        server = subprocess.Popen(["/usr/bin/python3", "-c", server_code],
                                  stdout=subprocess.PIPE, text=True)
        port = server.stdout.readline().strip()
        client = subprocess.Popen(["/usr/bin/python3", "-c", client_code, port],
                                  stdout=subprocess.PIPE, text=True)
        pid = int(client.stdout.readline())

        def exported():
            lines = collector.out_path.read_bytes().splitlines()
            return [t for t in (json.loads(x).get("http") for x in lines)
                    if t and t["process"]["pid"] == pid]
        harness.wait_for(exported, timeout=10, what="the transaction at the idle timeout")
        [t] = exported()
        assert (t["method"], t["path"], t["status"]) == ("GET", "/idle", 200)
        assert harness.body(t, "responseBody") == b"still open, idle\n"
        assert client.poll() is None and server.poll() is None  # neither closed the socket
        records = cleartap.stop_collector()
        # both sides of the one connection were idle: each process's session ended so
        assert int(harness.final_stats(records)["collector"]["idleSessions"]) == 2
    finally:
        for p in (server, client):
            if p:
                p.kill()
