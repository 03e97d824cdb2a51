# SPDX-License-Identifier: Apache-2.0
"""Go's crypto/tls: Go clients and servers built here with Debian's Go, against openssl
s_server, a Python server, curl and each other; stripped builds, binaries started before the
loader or after it, 50 goroutines on one connection pool, gRPC-Go. Each capture is checked
against what the peers themselves report sending and receiving."""
import base64
import contextlib
import json
import os
import re
import subprocess

import pytest

import harness
from harness import stream, tls_data, wait_for
from test_http import transactions

GO_ENV = {"GO111MODULE": "off", "GOPATH": "/usr/share/gocode", "GOFLAGS": "",
          "GOCACHE": str(harness.BUILD.resolve() / "go-cache"), "CGO_ENABLED": "0"}
FUNCTIONS = {"crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Read"}


def go_build(out, source, *flags):
    subprocess.run(["go", "build", *flags, "-o", str(out), str(source)], check=True,
                   env={**os.environ, **GO_ENV}, capture_output=True, timeout=600)
    out.chmod(0o755)
    return out


@pytest.fixture(scope="session")
def go_peers():
    """The Go peers, built offline from Debian's packages (golang-go, golang-google-grpc-dev)."""
    d = harness.BUILD.resolve() / "go"
    d.mkdir(exist_ok=True)
    d.chmod(0o755)
    src = harness.PEERS / "go"
    return {"gopeer": go_build(d / "gopeer", src / "gopeer.go"),
            "stripped": go_build(d / "gopeer-stripped", src / "gopeer.go", "-ldflags=-s -w"),
            "grpcpeer": go_build(d / "grpcpeer", src / "grpcpeer" / "grpcpeer.go")}


@pytest.fixture
def world_readable_cert(tls_cert):
    for p in (*tls_cert, tls_cert[0].parent):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return tls_cert


def attached(cleartap, binary):
    """Wait until the loader probed binary, at the collector's request (its first exec)."""
    pattern = re.compile(rf"collector asked for {re.escape(str(binary))} \(pid \d+\): "
                         r"(already )?attached")
    wait_for(lambda: pattern.search(cleartap.loader_log()), timeout=15,
             what=f"{binary} to be probed")


def probe_first(cleartap, binary):
    """Run binary once, until probed, so that its real run is probed from its start (a process
    gone before the loader looks is reported, not probed)."""
    p = subprocess.Popen([str(binary), "wait"], stdin=subprocess.PIPE)
    try:
        attached(cleartap, binary)
    finally:
        p.stdin.close()
        p.wait(timeout=10)


@contextlib.contextmanager
def go_server(binary, port, cert, key, cleartap=None):
    """A Go server on port until the block ends; with cleartap, once that has probed it."""
    p = subprocess.Popen([str(binary), "server", str(port), str(cert), str(key)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
        if cleartap:
            attached(cleartap, binary)
        yield p
    finally:
        p.terminate()
        p.wait(timeout=10)


def run_client(binary, url, n, concurrency, proto, method="POST"):
    p = subprocess.run([str(binary), "client", url, str(n), str(concurrency), proto, method],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    # lines end in "\n" only: splitlines() also splits at U+0085 and U+2028 inside a body
    return [json.loads(line) for line in p.stdout.split("\n") if line]


def client_pid(records, binary):
    """The pid of the one process that ran binary as a client (its exec record says)."""
    pids = {r["process"]["pid"] for r in records if "process" in r
            and r["process"].get("exe") == str(binary) and "client" in r["process"].get("argv", [])}
    assert len(pids) == 1, pids
    return pids.pop()


def objdump_sites(binary, function):
    """Offsets of the first jbe and of every ret in function, as Go's own disassembler has them."""
    out = subprocess.run(["go", "tool", "objdump", "-s", "^" + re.escape(function) + "$",
                          str(binary)], capture_output=True, text=True, check=True,
                         env={**os.environ, **GO_ENV}).stdout
    insns = [(int(m.group(1), 16), m.group(2)) for m in
             re.finditer(r"^\s+\S+:\d+\s+0x([0-9a-f]+)\s+[0-9a-f]+\s+(\w+)", out, re.M)]
    start = insns[0][0]
    jbe = next(a for a, op in insns if op == "JBE") - start
    return jbe, [a - start for a, op in insns if op == "RET"]


def attachment_of(records, binary):
    [a] = [r["attachment"] for r in records if "attachment" in r
           and r["attachment"]["path"] == str(binary)]
    return a


def test_go_client_to_openssl_s_server(cleartap, go_peers, world_readable_cert):
    cert, key = world_readable_cert
    port = harness.free_port()
    server = subprocess.Popen(["openssl", "s_server", "-accept", str(port), "-cert", str(cert),
                               "-key", str(key), "-www", "-quiet"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: subprocess.run(["ss", "-Hltn", f"sport = :{port}"],
                                        capture_output=True, text=True).stdout.strip(),
                 what="s_server to listen")
        cleartap.start_loader()
        cleartap.start_collector()
        gopeer = go_peers["gopeer"]
        probe_first(cleartap, gopeer)
        [result] = run_client(gopeer, f"https://127.0.0.1:{port}", 1, 1, "h1", "GET")
        records = cleartap.stop_collector()
    finally:
        server.kill()
        server.wait()
    pid = client_pid(records, gopeer)
    # what net/http writes for a GET: its documented, fixed header set
    assert stream(records, pid, "DIRECTION_WRITE") == (
        f"GET /item/0 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: Go-http-client/1.1\r\n"
        "Accept-Encoding: gzip\r\n\r\n").encode()
    received = stream(records, pid, "DIRECTION_READ")
    assert received.startswith(b"HTTP/1.0 200 ok\r\n")
    assert received.endswith(b"\r\n\r\n" + result["body"].encode())
    assert {d["function"] for d in tls_data(records, pid)} == FUNCTIONS
    assert all(d.get("connectionId") for d in tls_data(records, pid))
    [t] = transactions(records, pid)
    assert (t["method"], t["path"], t["status"]) == ("GET", "/item/0", 200)
    assert t["remote"] == {"address": "127.0.0.1", "port": port}
    assert t["process"]["comm"] == "gopeer"
    # the sites are the ones Go's own disassembler shows: the stack check's jbe, every ret
    a = attachment_of(records, gopeer)
    assert (a["library"], a["status"], a["functions"]) == ("go", "STATUS_ATTACHED", 4)
    for site in a["sites"]:
        jbe, rets = objdump_sites(gopeer, site["function"])
        assert (site["entryOffset"], site["entryInstruction"], site["entryEmulated"]) == (
            jbe, "jbe", True), site
        if site["function"] == "crypto/tls.(*Conn).Close":
            assert site.get("exit", "EXIT_NONE") == "EXIT_NONE", site
        else:
            assert site["exit"] == "EXIT_RETURNS", site
            assert site["returnOffsets"] == rets, site
    harness.assert_accounted(harness.final_stats(records))


def test_go_client_byte_exact(cleartap, go_peers, world_readable_cert):
    """POST to a Python server that reports the exact bytes it received and sent."""
    cert, key = world_readable_cert
    port = harness.free_port()
    cleartap.start_loader()
    cleartap.start_collector()
    gopeer = go_peers["gopeer"]
    probe_first(cleartap, gopeer)
    server = subprocess.Popen(["/usr/bin/python3", str(harness.PEERS / "tls_server.py"),
                               str(cert), str(key), str(port), "70000", "go-marker"],
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout.readline().strip() == "ready"
    [result] = run_client(gopeer, f"https://127.0.0.1:{port}", 1, 1, "h1", "POST")
    truth = json.loads(server.stdout.readline())
    server.wait(timeout=10)
    records = cleartap.stop_collector()
    pid = client_pid(records, gopeer)
    assert stream(records, pid, "DIRECTION_WRITE") == base64.b64decode(truth["received"])
    assert stream(records, pid, "DIRECTION_READ") == base64.b64decode(truth["sent"])
    assert result["status"] == 200
    [t] = transactions(records, pid)
    assert (t["method"], t["path"], t["status"]) == ("POST", "/item/0", 200)
    assert harness.body(t, "requestBody") == b"request 0"
    harness.assert_accounted(harness.final_stats(records))


@pytest.mark.parametrize("http", ["--http1.1", "--http2"])
def test_go_server_from_curl(cleartap, go_peers, world_readable_cert, http):
    """A Go server started after cleartap; curl (OpenSSL, probed on its own) is the other end."""
    cert, key = world_readable_cert
    port = harness.free_port()
    cleartap.start_loader()
    cleartap.start_collector()
    with go_server(go_peers["gopeer"], port, cert, key, cleartap) as server:
        curl = subprocess.run(["curl", "-sk", http, "--data-binary", "hello from curl",
                               f"https://127.0.0.1:{port}/upload"],
                              capture_output=True, timeout=30, check=True)
    records = cleartap.stop_collector()
    assert curl.stdout == b"/upload got hello from curl"
    [t] = transactions(records, server.pid)
    assert (t["method"], t["path"], t["status"]) == ("POST", "/upload", 200)
    assert t["protocol"] == ("HTTP/1.1" if http == "--http1.1" else "HTTP/2")
    assert harness.body(t, "requestBody") == b"hello from curl"
    assert harness.body(t, "responseBody") == curl.stdout
    [c] = [x for x in transactions(records) if x["process"]["comm"] == "curl"]
    # the two ends, captured by different probes (OpenSSL's, Go's), saw the same bytes
    assert stream(records, server.pid, "DIRECTION_READ") == stream(
        records, c["process"]["pid"], "DIRECTION_WRITE")
    assert stream(records, server.pid, "DIRECTION_WRITE") == stream(
        records, c["process"]["pid"], "DIRECTION_READ")
    assert t["connectionId"] and t["local"]["port"] == port
    harness.assert_accounted(harness.final_stats(records))


def test_go_stripped_client(cleartap, go_peers, world_readable_cert):
    """-ldflags='-s -w': no symbol table; the functions come from .gopclntab."""
    cert, key = world_readable_cert
    stripped = go_peers["stripped"]
    syms = subprocess.run(["readelf", "-S", str(stripped)], capture_output=True, text=True)
    assert ".symtab" not in syms.stdout and ".gopclntab" in syms.stdout
    port = harness.free_port()
    cleartap.start_loader()
    cleartap.start_collector()
    with go_server(go_peers["gopeer"], port, cert, key):
        probe_first(cleartap, stripped)
        results = run_client(stripped, f"https://127.0.0.1:{port}", 3, 3, "h2")
    records = cleartap.stop_collector()
    a = attachment_of(records, stripped)
    assert (a["library"], a["functions"]) == ("go", 4)
    pid = client_pid(records, stripped)
    txns = sorted(transactions(records, pid), key=lambda t: t["path"])
    assert [(t["method"], t["path"], t["status"], t["protocol"]) for t in txns] == [
        ("POST", f"/item/{r['index']}", 200, "HTTP/2")
        for r in sorted(results, key=lambda r: r["index"])]
    for t in txns:
        i = t["path"].rsplit("/", 1)[1]
        assert harness.body(t, "requestBody").decode() == f"request {i}"
        assert harness.body(t, "responseBody").decode() == f"/item/{i} got request {i}"
    harness.assert_accounted(harness.final_stats(records))


def test_go_running_before_the_loader(cleartap, go_peers, world_readable_cert):
    """A Go server already running when cleartap starts: the loader's start-up scan probes it."""
    cert, key = world_readable_cert
    port = harness.free_port()
    with go_server(go_peers["gopeer"], port, cert, key) as server:
        cleartap.start_loader()
        log = cleartap.loader_log()
        assert re.search(rf"attached to /proc/{server.pid}/root{re.escape(str(go_peers['gopeer']))}"
                         r" \(go, 4 functions\)", log), log
        cleartap.start_collector()
        curl = subprocess.run(["curl", "-sk", "--http1.1", "--data-binary", "early",
                               f"https://127.0.0.1:{port}/before"],
                              capture_output=True, timeout=30, check=True)
    records = cleartap.stop_collector()
    [t] = transactions(records, server.pid)
    assert (t["method"], t["path"], t["status"]) == ("POST", "/before", 200)
    assert harness.body(t, "responseBody") == curl.stdout == b"/before got early"


@pytest.mark.parametrize("proto", ["h1", "h2"])
def test_goroutines_on_one_pool(cleartap, go_peers, world_readable_cert, proto):
    """200 requests from 50 goroutines on one client, Go on both ends: every request and response
    paired as the client itself saw them, on both sides."""
    cert, key = world_readable_cert
    port = harness.free_port()
    cleartap.start_loader()
    cleartap.start_collector()
    with go_server(go_peers["gopeer"], port, cert, key, cleartap) as server:
        results = run_client(go_peers["gopeer"], f"https://127.0.0.1:{port}", 200, 50, proto)
    records = cleartap.stop_collector()
    truth = {f"/item/{r['index']}": (r["sent"], r["body"]) for r in results}
    assert len(truth) == 200 and all(r["status"] == 200 for r in results)
    pid = client_pid(records, go_peers["gopeer"])
    for side in (pid, server.pid):  # the client, then the server
        txns = transactions(records, side)
        assert len(txns) == 200, side
        seen = {t["path"]: (harness.body(t, "requestBody").decode(),
                            harness.body(t, "responseBody").decode()) for t in txns}
        assert seen == truth, "client" if side == pid else "server"
        assert all(t["status"] == 200 and t["connectionId"] for t in txns)
        assert {t["protocol"] for t in txns} == {"HTTP/1.1" if proto == "h1" else "HTTP/2"}
    harness.assert_accounted(harness.final_stats(records))


def test_grpc_go(cleartap, go_peers, world_readable_cert):
    """gRPC-Go's health service, both ends Go: service, method and status from the trailers."""
    cert, key = world_readable_cert
    port = harness.free_port()
    grpcpeer = go_peers["grpcpeer"]
    cleartap.start_loader()
    cleartap.start_collector()
    with go_server(grpcpeer, port, cert, key, cleartap) as server:
        ok = subprocess.run([str(grpcpeer), "client", f"127.0.0.1:{port}", "cleartap.Test"],
                            capture_output=True, text=True, timeout=30, check=True)
        unknown = subprocess.run([str(grpcpeer), "client", f"127.0.0.1:{port}", "nope"],
                                 capture_output=True, text=True, timeout=30, check=True)
    records = cleartap.stop_collector()
    assert ok.stdout.strip() == "status SERVING" and unknown.stdout.strip() == "code NotFound"
    calls = [t for t in transactions(records) if t.get("grpc")]
    by_side = {}
    for t in calls:
        by_side.setdefault(t["process"]["pid"] == server.pid, []).append(t)
    for side, txns in by_side.items():
        assert sorted(t["grpc"]["status"].get("code", 0) for t in txns) == [0, 5], side
        for t in txns:
            assert (t["grpc"]["service"], t["grpc"]["method"]) == ("grpc.health.v1.Health",
                                                                   "Check")
            assert t["path"] == "/grpc.health.v1.Health/Check" and t["protocol"] == "HTTP/2"
    assert set(by_side) == {True, False}


def test_go_before_1_17_is_reported(cleartap, go_peers):
    """A Go binary whose build info says go1.16: the stack ABI, never guessed at; said why."""
    old = go_peers["gopeer"].parent / "gopeer-go116"  # where the collector's user can look
    data = go_peers["gopeer"].read_bytes()
    version = re.search(rb"go1\.(\d\d)\.\d+", data[data.index(b"\xff Go buildinf:"):]).group(0)
    patched = version[:4] + b"16" + version[6:]
    at = data.index(b"\xff Go buildinf:")
    data = data[:at] + data[at:].replace(version, patched, 1)
    old.write_bytes(data)
    old.chmod(0o755)
    cleartap.start_loader()
    cleartap.start_collector()
    p = subprocess.Popen([str(old), "wait"], stdin=subprocess.PIPE)
    try:
        wait_for(lambda: f"collector asked for {old}" in cleartap.loader_log(),
                 what="the loader's answer")
    finally:
        p.stdin.close()
        p.wait(timeout=10)
    records = cleartap.stop_collector()
    a = attachment_of(records, old)
    assert (a["status"], a["library"]) == ("STATUS_SKIPPED", "go")
    assert f"{patched.decode()}: before Go 1.17's register ABI, not supported" in a["detail"]
