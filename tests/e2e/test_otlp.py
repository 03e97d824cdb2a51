# SPDX-License-Identifier: Apache-2.0
"""cleartap-export: the collector's protobuf stream to an OTLP/HTTP receiver. The receiver
decodes with OpenTelemetry's own definitions (npm @opentelemetry/otlp-transformer), never with
cleartap's; what it stored is compared with what curl really did, and every record the
exporter was given is accounted for: sent, retried, refused, dropped."""
import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

import harness
from test_http import curl_keepalive, nginx, run_curl  # noqa: F401 (fixture)
from test_http import transactions as harness_transactions

EXPORTER = harness.BUILD / "exporter" / "cleartap-export"
RECEIVER = harness.PEERS / "otlp_receiver"
_started = []  # receivers and exporters of the running test, ended whatever happens


@pytest.fixture(autouse=True)
def _end_processes():
    yield
    while _started:
        p = _started.pop()
        if p.poll() is None:
            p.kill()
            p.wait()


class Receiver:
    def __init__(self, cleartap, *args):
        assert (RECEIVER / "node_modules").exists(), \
            f"npm ci --prefix {RECEIVER} (scripts/test does it)"
        n = len(list(cleartap.dir.glob("otlp*.jsonl")))
        self.out = cleartap.dir / f"otlp{n}.jsonl"
        port_file = cleartap.dir / f"otlp{n}.port"
        self.proc = subprocess.Popen(["node", str(RECEIVER / "receiver.js"), str(self.out),
                                      str(port_file), *map(str, args)])
        _started.append(self.proc)
        harness.wait_for(port_file.exists, what="OTLP receiver")
        self.port = int(port_file.read_text())
        self.endpoint = f"http://127.0.0.1:{self.port}/v1/logs"

    def requests(self):
        if not self.out.exists():
            return []
        return [json.loads(line) for line in self.out.read_text().splitlines()]

    def log_records(self, accepted_only=True):
        """The log records of every request the receiver accepted, in order."""
        out = []
        for req in self.requests():
            assert "error" not in req, req
            if accepted_only and req["status"] != 200:
                continue
            for rl in req["request"]["resourceLogs"]:
                for sl in rl["scopeLogs"]:
                    out.extend(sl["logRecords"])
        return out

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def value(v):
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "boolValue" in v:
        return v["boolValue"]
    if "bytesValue" in v:
        return base64.b64decode(v["bytesValue"])
    if "arrayValue" in v:
        return [value(x) for x in v["arrayValue"].get("values", [])]
    raise AssertionError(v)


def attrs(record):
    return {a["key"]: value(a["value"]) for a in record.get("attributes", [])}


def events(records, name):
    return [r for r in records if r.get("eventName") == name]


def start_exporter(cleartap, endpoint, *args, socket_name="export.sock"):
    n = len(list(cleartap.dir.glob("exporter*.err")))
    err = cleartap.dir / f"exporter{n}.err"
    sock = cleartap.dir / socket_name
    p = subprocess.Popen([str(EXPORTER), "--user", "nobody", "--listen", f"unix:{sock}",
                          "--endpoint", endpoint, "--stats-interval", "0",
                          "--batch-delay", "100", *map(str, args)],
                         stdout=subprocess.DEVNULL, stderr=open(err, "w"))
    p.err_path, p.sock = err, sock
    _started.append(p)
    harness.wait_for(lambda: "exporting to" in err.read_text() or p.poll() is not None,
                     what="exporter to start")
    assert p.poll() is None, err.read_text()
    return p


def stop_exporter(p):
    """SIGTERM: it sends what is queued, then prints its final counters."""
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=30) == 0, p.err_path.read_text()
    line = [x for x in p.err_path.read_text().splitlines() if "final stats" in x][-1]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def cleartap_pb2(tmp_path):
    subprocess.run(["protoc", f"--proto_path={harness.ROOT / 'proto'}",
                    f"--python_out={tmp_path}", "cleartap.proto"], check=True)
    sys.path.insert(0, str(tmp_path))
    try:
        import cleartap_pb2 as pb
    finally:
        sys.path.pop(0)
    return pb


def delimited(message):
    body, prefix = message.SerializeToString(), bytearray()
    n = len(body)
    while True:
        prefix.append((n & 0x7F) | (0x80 if n >> 7 else 0))
        n >>= 7
        if not n:
            return bytes(prefix) + body


def transaction(pb, i):
    r = pb.Record()
    r.http.method, r.http.path, r.http.status = "GET", f"/r{i}", 200
    r.http.protocol, r.http.scheme, r.http.authority = "HTTP/1.1", "https", "example.test"
    r.http.request_start_unix_nano = 1_700_000_000_000_000_000 + i
    return r


def feed(sock, data):
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(sock))
        s.sendall(data)


# --- against the real capture -------------------------------------------------------------


def test_http_transactions_arrive_as_otlp_logs(cleartap, nginx):  # noqa: F811
    harness.require_bpf()
    port, etag = nginx
    receiver = Receiver(cleartap)
    exporter = start_exporter(cleartap, receiver.endpoint)
    cleartap.start_loader()
    # the receiver is a node process on loopback: its side of each export is not wanted
    collector = cleartap.start_collector("--proto", f"unix:{exporter.sock}",
                                         "--exclude-comm", "node")
    curl_h1 = curl_keepalive(port, etag, "--http1.1")
    curl_h2 = run_curl("--http2", f"https://127.0.0.1:{port}/hello.txt")
    cleartap.stop_collector(collector)
    counters = stop_exporter(exporter)
    receiver.stop()

    records = receiver.log_records()
    txns = [attrs(r) | {"body": r.get("body"), "severity": r.get("severityText")}
            for r in events(records, "cleartap.http.transaction")]
    user_agent = "curl/" + subprocess.run(["curl", "--version"], capture_output=True,
                                          text=True).stdout.split()[1]
    client = [t for t in txns if t.get("process.pid") == curl_h1]
    assert [(t["http.request.method"], t["url.path"], t["http.response.status_code"])
            for t in client] == [("GET", "/hello.txt", 200), ("POST", "/post", 200),
                                 ("GET", "/big.txt", 200), ("GET", "/hello.txt", 304)]
    for t, path in zip(client, ["/hello.txt", "/post", "/big.txt", "/hello.txt"]):
        assert t["url.full"] == f"https://127.0.0.1:{port}{path}"
        assert t["url.scheme"] == "https" and t["network.protocol.version"] == "1.1"
        assert (t["server.address"], t["server.port"]) == ("127.0.0.1", port)
        assert (t["network.peer.address"], t["network.peer.port"]) == ("127.0.0.1", port)
        assert t["user_agent.original"] == user_agent
        assert t["http.request.header.user-agent"] == [user_agent]
        assert t["process.executable.name"] == "curl"
        assert t["cleartap.http.role"] == "client" and t["severity"] == "INFO"
    assert client[1]["http.request.body.size"] == len("a=1&b=2")
    assert client[1]["cleartap.http.request.body"] == "a=1&b=2"
    assert client[0]["body"] == {"stringValue": "GET /hello.txt 200"}
    local_port = client[0]["network.local.port"]
    server = [t for t in txns if t.get("process.executable.name") == "nginx"
              and t.get("client.port") == local_port]
    assert [(t["url.path"], t["http.response.status_code"], t["cleartap.http.role"])
            for t in server] == [("/hello.txt", 200, "server"), ("/post", 200, "server"),
                                 ("/big.txt", 200, "server"), ("/hello.txt", 304, "server")]
    h2 = [t for t in txns if t.get("process.pid") == curl_h2]
    assert [(t["url.path"], t["network.protocol.version"]) for t in h2] == [("/hello.txt", "2")]
    # the credential curl sent was redacted before anything left the collector
    assert "s3cret" not in receiver.out.read_text()
    # the exporter's own requests are never captured and exported again
    assert not [t for t in txns if t.get("url.path") == "/v1/logs"]
    closes = [attrs(r) for r in events(records, "cleartap.connection")
              if attrs(r).get("process.pid") == curl_h1
              and attrs(r)["cleartap.connection.event"] == "close"]
    assert len(closes) == 1 and closes[0]["network.peer.port"] == port
    assert closes[0]["tls.protocol.version"] in ("1.2", "1.3")
    final = [attrs(r) for r in events(records, "cleartap.collector.stats")
             if attrs(r).get("cleartap.final")]
    assert len(final) == 1 and final[0]["cleartap.collector.http_transactions"] >= 10
    # everything the receiver stored is what the exporter counts as sent, nothing lost
    assert counters["sent"] == len(records)
    assert counters["failed"] == counters["rejected"] == counters["dropped_queue_full"] == 0
    assert counters["malformed"] == counters["oversized"] == 0
    resource = receiver.requests()[0]["request"]["resourceLogs"][0]["resource"]
    assert attrs(resource)["service.name"] == "cleartap"
    assert attrs(resource)["host.name"] == socket.gethostname()


def test_collector_connects_again_when_the_exporter_restarts(cleartap, nginx):  # noqa: F811
    harness.require_bpf()
    port, _ = nginx
    receiver = Receiver(cleartap)
    sock = cleartap.dir / "export.sock"
    cleartap.start_loader()
    # nobody listens yet: the collector starts anyway and tries again every second
    collector = cleartap.start_collector("--proto", f"unix:{sock}", "--exclude-comm", "node")
    exporter = start_exporter(cleartap, receiver.endpoint)
    harness.wait_for(lambda: "connected" in collector.err_path.read_text(), timeout=5,
                     what="collector to connect")
    first = run_curl("--http1.1", f"https://127.0.0.1:{port}/hello.txt")
    harness.wait_for(lambda: any(attrs(r).get("process.pid") == first
                                 for r in receiver.log_records()), what="first export")
    exporter.kill()  # no goodbye: the collector finds out by its next send
    exporter.wait()
    run_curl("--http1.1", f"https://127.0.0.1:{port}/hello.txt")  # lost, and counted
    exporter = start_exporter(cleartap, receiver.endpoint)
    harness.wait_for(lambda: collector.err_path.read_text().count(": connected") >= 2,
                     timeout=10, what="collector to connect again")
    third = run_curl("--http1.1", f"https://127.0.0.1:{port}/hello.txt")
    harness.wait_for(lambda: any(attrs(r).get("process.pid") == third
                                 for r in receiver.log_records()), what="export after restart")
    records = cleartap.stop_collector(collector)
    stop_exporter(exporter)
    receiver.stop()
    stats = harness.final_stats(records)["collector"]
    assert harness.counter(stats, "sinkDroppedRecords") > 0
    log = collector.err_path.read_text()
    assert "counted as sinkDroppedRecords until it is back" in log


# --- the exporter alone, fed synthetic records ------------------------------------------------


def test_retries_with_backoff_deliver_each_record_once(cleartap, tmp_path):
    pb = cleartap_pb2(tmp_path)
    receiver = Receiver(cleartap, "--fail", 2, "--retry-after", 0)
    exporter = start_exporter(cleartap, receiver.endpoint, "--allow-user", "root",
                              "--compression", "gzip")
    feed(exporter.sock, b"".join(delimited(transaction(pb, i)) for i in range(10)))
    harness.wait_for(lambda: len(receiver.requests()) >= 3, what="three attempts")
    counters = stop_exporter(exporter)
    receiver.stop()
    reqs = receiver.requests()
    assert [r["status"] for r in reqs[:3]] == [503, 503, 200]
    assert all(r["headers"]["content-encoding"] == "gzip" for r in reqs)
    assert reqs[0]["request"] == reqs[1]["request"] == reqs[2]["request"]  # the same batch
    records = receiver.log_records()
    paths = [attrs(r)["url.path"] for r in events(records, "cleartap.http.transaction")]
    assert paths == [f"/r{i}" for i in range(10)]  # each once, in order
    assert counters["retries"] == 2 and counters["received"] == 10
    assert counters["sent"] == len(records) == 11  # and the exporter's own final counters
    stats = attrs(events(records, "cleartap.export.stats")[0])
    assert stats["cleartap.final"] is True and stats["cleartap.export.retries"] == 2


def test_full_queue_and_unreachable_receiver_are_counted(cleartap, tmp_path):
    pb = cleartap_pb2(tmp_path)
    closed = f"http://127.0.0.1:{harness.free_port()}/v1/logs"  # nothing listens there
    exporter = start_exporter(cleartap, closed, "--allow-user", "root", "--queue-size", 5,
                              "--batch-size", 5, "--shutdown-timeout", 1)
    feed(exporter.sock, b"".join(delimited(transaction(pb, i)) for i in range(20)))
    harness.wait_for(lambda: "retrying 5 log records" in exporter.err_path.read_text(),
                     what="a failed attempt")
    counters = stop_exporter(exporter)
    assert counters["received"] == 20
    # 5 held (and given up at exit), 15 dropped at the door, and the final counters record
    assert counters["failed"] == 5 and counters["dropped_queue_full"] == 16
    assert counters["sent"] == 0
    assert "Couldn't connect to server" in exporter.err_path.read_text()


def test_refusals_and_partial_success_are_counted(cleartap, tmp_path):
    pb = cleartap_pb2(tmp_path)
    receiver = Receiver(cleartap, "--reject", 3)
    exporter = start_exporter(cleartap, receiver.endpoint, "--allow-user", "root")
    feed(exporter.sock, b"".join(delimited(transaction(pb, i)) for i in range(8)))
    harness.wait_for(lambda: receiver.requests(), what="a request")
    counters = stop_exporter(exporter)
    receiver.stop()
    assert counters["rejected"] == 3 and counters["sent"] == 8 - 3 + 1
    assert "the receiver rejected 3 of 8 log records: test rejects" in \
        exporter.err_path.read_text()

    receiver = Receiver(cleartap, "--status", 400)
    exporter = start_exporter(cleartap, receiver.endpoint, "--allow-user", "root",
                              socket_name="export2.sock")
    feed(exporter.sock, b"".join(delimited(transaction(pb, i)) for i in range(4)))
    harness.wait_for(lambda: receiver.requests(), what="a request")
    counters = stop_exporter(exporter)
    receiver.stop()
    assert counters["rejected"] == 4 + 1 and counters["sent"] == 0 and counters["retries"] == 0
    assert "the receiver refused 4 log records (HTTP 400)" in exporter.err_path.read_text()


def test_hostile_input_and_strangers(cleartap, tmp_path):
    pb = cleartap_pb2(tmp_path)
    receiver = Receiver(cleartap)
    exporter = start_exporter(cleartap, receiver.endpoint, "--allow-user", "root",
                              "--max-record-bytes", "1K")
    # a record too large is skipped by its framing; the next one still arrives
    big = transaction(pb, 0)
    big.http.path = "/" + "x" * 4000
    feed(exporter.sock, delimited(big) + delimited(transaction(pb, 1)))
    # a stream that is no record stream: this connection is closed, the exporter goes on
    feed(exporter.sock, b"\xff" * 16)
    # bytes that frame as a record but are not one
    feed(exporter.sock, b"\x03\xff\xff\xff")
    # another user may not connect at all
    stranger = subprocess.run(
        ["setpriv", "--reuid=12345", "--regid=12345", "--clear-groups", "/usr/bin/python3",
         "-c", f"import socket; s=socket.socket(socket.AF_UNIX); s.connect('{exporter.sock}');"
               "print(s.recv(1))"], capture_output=True, text=True)
    assert stranger.stdout.strip() == "b''", stranger
    feed(exporter.sock, delimited(transaction(pb, 2)))
    harness.wait_for(lambda: len(events(receiver.log_records(), "cleartap.http.transaction"))
                     == 2, what="the two good records")
    counters = stop_exporter(exporter)
    receiver.stop()
    paths = [attrs(r)["url.path"] for r in
             events(receiver.log_records(), "cleartap.http.transaction")]
    assert paths == ["/r1", "/r2"]
    assert counters["oversized"] == 1 and counters["malformed"] == 2
    assert counters["refused_clients"] == 1
    log = exporter.err_path.read_text()
    assert "uid 12345: not allowed" in log and "not a record stream" in log


def test_bad_flags_are_refused_with_a_reason(cleartap):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    for args, said in [
            ([], "no --endpoint"),
            (["--endpoint", "ftp://example.test/"], "invalid --endpoint"),
            (["--endpoint", "not a url"], "invalid --endpoint"),
            (["--endpoint", "http://h/", "--batch-size", "0"], "invalid --batch-size"),
            (["--endpoint", "http://h/", "--header", "nocolon"], "invalid --header"),
            (["--endpoint", "http://h/", "--compression", "zstd"], "invalid --compression"),
            (["--endpoint", "http://h/", "--listen", "tcp:1"], "invalid --listen"),
            (["--endpoint", "http://h/", "--resource", "=x"], "invalid --resource")]:
        p = subprocess.run([str(EXPORTER), "--user", "nobody", *args], capture_output=True,
                           text=True, env=env, timeout=10)
        assert p.returncode == 2 and said in p.stderr, (args, p.stderr)
    p = subprocess.run([str(EXPORTER), "--endpoint", "http://h/"], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 1 and "refusing to run as root" in p.stderr


def test_endpoint_from_the_opentelemetry_environment(cleartap, tmp_path):
    pb = cleartap_pb2(tmp_path)
    receiver = Receiver(cleartap)
    sock = cleartap.dir / "export.sock"
    err = cleartap.dir / "env-exporter.err"
    env = dict(os.environ, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{receiver.port}")
    p = subprocess.Popen([str(EXPORTER), "--user", "nobody", "--allow-user", "root",
                          "--listen", f"unix:{sock}", "--batch-delay", "50",
                          "--resource", "deployment.environment=test"],
                         env=env, stderr=open(err, "w"))
    _started.append(p)
    harness.wait_for(lambda: "exporting to" in err.read_text(), what="exporter")
    assert f"exporting to http://127.0.0.1:{receiver.port}/v1/logs" in err.read_text()
    feed(sock, delimited(transaction(pb, 0)))
    harness.wait_for(lambda: receiver.requests(), what="a request")
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=20) == 0
    receiver.stop()
    req = receiver.requests()[0]
    assert req["url"] == "/v1/logs"
    assert req["headers"]["content-type"] == "application/x-protobuf"
    resource = attrs(req["request"]["resourceLogs"][0]["resource"])
    assert resource["deployment.environment"] == "test"


def test_exporter_is_unprivileged_and_sandboxed(cleartap):
    receiver = Receiver(cleartap)
    exporter = start_exporter(cleartap, receiver.endpoint)
    try:
        harness.assert_unprivileged(exporter.pid)
        status = open(f"/proc/{exporter.pid}/status").read()
        assert re.search(r"^Seccomp:\s+2$", status, re.M), status
        assert re.search(r"^NoNewPrivs:\s+1$", status, re.M), status
        assert re.search(r"^Uid:\s+65534\s+65534\s+65534\s+65534$", status, re.M), status
    finally:
        stop_exporter(exporter)
        receiver.stop()


def test_https_receiver_through_the_sandbox(cleartap, tls_cert, tmp_path):
    """An https endpoint (libcurl's OpenSSL under the exporter's seccomp filter, the CA file
    read after lock-down), gzip bodies: every request arrives and decodes."""
    import gzip
    import http.server
    import shutil
    import ssl
    import threading

    pb = cleartap_pb2(tmp_path)
    cert, key = tls_cert
    ca = cleartap.dir / "ca.pem"
    shutil.copy(cert, ca)
    ca.chmod(0o644)
    bodies = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["content-length"]))
            bodies.append((self.path, self.headers["content-encoding"], gzip.decompress(body)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        exporter = start_exporter(cleartap, f"https://localhost:{server.server_port}/v1/logs",
                                  "--allow-user", "root", "--ca-file", str(ca),
                                  "--compression", "gzip")
        feed(exporter.sock, b"".join(delimited(transaction(pb, i)) for i in range(5)))
        harness.wait_for(lambda: bodies, what="an https request")
        counters = stop_exporter(exporter)
    finally:
        server.shutdown()
    assert counters["sent"] == 6 and counters["failed"] == counters["retries"] == 0
    assert [(p, e) for p, e, _ in bodies] == [("/v1/logs", "gzip")] * len(bodies)
    assert sum(b.count(b"cleartap.http.transaction") for _, _, b in bodies) == 5


def test_exporter_on_a_socket_another_process_made(cleartap, nginx):  # noqa: F811
    """As under systemd: the listening socket is made by another process (here this test), so
    SO_PEERCRED names that one; the exporter's hello names itself, and its own requests are
    still never exported."""
    harness.require_bpf()
    port, _ = nginx
    receiver = Receiver(cleartap)
    sock = cleartap.dir / "made-elsewhere.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock))
    os.chmod(sock, 0o666)
    listener.listen(4)
    err = cleartap.dir / "activated-exporter.err"
    # as systemd passes it: descriptor 3, LISTEN_PID the exporter's own (set after the fork)
    activate = ("import os, sys; fd = int(sys.argv[1]); os.dup2(fd, 3); "
                "fd != 3 and os.close(fd); "
                "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1'); "
                "os.execv(sys.argv[2], sys.argv[2:])")
    p = subprocess.Popen(
        ["/usr/bin/python3", "-c", activate, str(listener.fileno()), str(EXPORTER), "--user",
         "nobody", "--listen", "systemd", "--endpoint", receiver.endpoint, "--batch-delay", "50",
         "--stats-interval", "0"], pass_fds=(listener.fileno(),), stderr=open(err, "w"))
    listener.close()
    _started.append(p)
    harness.wait_for(lambda: "exporting to" in err.read_text(), what="exporter")
    cleartap.start_loader()
    collector = cleartap.start_collector("--proto", f"unix:{sock}", "--exclude-comm", "node")
    for i in range(3):  # several batches: each export request is plain HTTP on loopback
        curl = run_curl("--http1.1", f"https://127.0.0.1:{port}/hello.txt?{i}")
        harness.wait_for(lambda: any(attrs(r).get("process.pid") == curl
                                     for r in receiver.log_records()), what="an export")
    time.sleep(0.5)  # what the exporter sent last is drained too
    records = cleartap.stop_collector(collector)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=20) == 0
    receiver.stop()
    exported = [a for a in map(attrs, events(receiver.log_records(), "cleartap.http.transaction"))]
    assert not [a for a in exported if a.get("url.path") == "/v1/logs"]
    assert not [t for t in harness_transactions(records) if t["path"] == "/v1/logs"]
    assert len([a for a in exported if a.get("process.pid") == curl]) == 1
