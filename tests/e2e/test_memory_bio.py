# SPDX-License-Identifier: Apache-2.0
"""Runtimes whose TLS goes through memory BIOs (Node.js; gRPC's C core): their plaintext tied
to the right TCP connection, under 20 concurrent connections. The truth is the peer's own
view of each connection: nginx and curl use socket BIOs, whose connection comes from the
syscall inside the call, so a request's two sides must name the two ends of one connection."""
import json
import subprocess

import harness
from test_go import go_peers, go_server, world_readable_cert  # noqa: F401 (fixtures)
from test_http import nginx, transactions  # noqa: F401 (fixture)

N = 20


def ends(t):
    """(local, remote); an IPv4-mapped address (a dual-stack socket: grpcio's) as IPv4."""
    def v4(address):
        return address.removeprefix("::ffff:")
    return ((v4(t["local"]["address"]), t["local"]["port"]),
            (v4(t["remote"]["address"]), t["remote"]["port"]))


def assert_tied(mine, theirs, port, server_side):
    """Each of mine has its connection and endpoints, and is the mirror of their view."""
    assert len(mine) == N and len(theirs) == N, (len(mine), len(theirs))
    by_path = {t["path"]: t for t in theirs}
    for t in mine:
        assert t.get("connectionId"), t
        local, remote = ends(t)
        peer_local, peer_remote = ends(by_path[t["path"]])
        assert (local, remote) == (peer_remote, peer_local), (t["path"], ends(t))
        assert (local if server_side else remote)[1] == port
    assert len({ends(t) for t in mine}) == N  # 20 connections, each its own


NODE_CLIENT = """
const https = require('https');
const port = Number(process.argv[1]);
let left = %d;
for (let i = 0; i < %d; i++) {
  const agent = new https.Agent({keepAlive: false});
  https.get({host: '127.0.0.1', port, path: '/hello.txt?c=' + i, rejectUnauthorized: false,
             agent}, (res) => {
    res.resume();
    res.on('end', () => { if (--left === 0) process.exit(0); });
  });
}
""" % (N, N)


def node_client_against_nginx(cleartap, port, script):
    """The records of a run of the Node client script, its exchanges and nginx's."""
    cleartap.start_loader()
    collector = cleartap.start_collector()
    p = subprocess.run(["node", "-e", script, str(port)], timeout=60)
    assert p.returncode == 0
    records = cleartap.stop_collector(collector)
    txns = transactions(records)
    return (records, [t for t in txns if t["process"].get("comm") == "node"],
            [t for t in txns if t["process"].get("comm") == "nginx"])


def test_node_https_client(cleartap, nginx):  # noqa: F811
    port, _ = nginx
    records, mine, theirs = node_client_against_nginx(cleartap, port, NODE_CLIENT)
    assert all(t["status"] == 200 for t in mine)
    assert_tied(mine, theirs, port, server_side=False)
    segments = [r["tlsData"] for r in records
                if "tlsData" in r and r["tlsData"]["process"]["comm"] == "node"]
    assert {s.get("fdSource") for s in segments} >= {"memory-bio"}


NODE_H2_CLIENT = """
const http2 = require('http2');
const port = Number(process.argv[1]);
let left = %d;
for (let i = 0; i < %d; i++) {
  const session = http2.connect('https://127.0.0.1:' + port, {rejectUnauthorized: false});
  const req = session.request({':path': '/hello.txt?h2=' + i});
  req.resume();
  req.on('end', () => { session.close(); if (--left === 0) setTimeout(() => process.exit(0), 50); });
  req.end();
}
""" % (N, N)


def test_node_http2_client(cleartap, nginx):  # noqa: F811
    port, _ = nginx
    _, mine, theirs = node_client_against_nginx(cleartap, port, NODE_H2_CLIENT)
    assert all(t["protocol"] == "HTTP/2" and t["status"] == 200 for t in mine), mine
    assert_tied(mine, theirs, port, server_side=False)


NODE_SERVER = """
const https = require('https');
const fs = require('fs');
const [cert, key] = process.argv.slice(1);
const server = https.createServer({cert: fs.readFileSync(cert), key: fs.readFileSync(key)},
                                  (req, res) => { res.end('served ' + req.url + '\\n'); });
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({port: server.address().port}) + '\\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
"""


def test_node_https_server(cleartap, tls_cert):
    cert, key = tls_cert
    world = cleartap.dir / "node-cert"
    world.mkdir()
    for f in (cert, key):
        (world / f.name).write_bytes(f.read_bytes())
    cleartap.start_loader()
    collector = cleartap.start_collector()
    server = subprocess.Popen(["node", "-e", NODE_SERVER, str(world / cert.name),
                               str(world / key.name)], stdout=subprocess.PIPE, text=True)
    try:
        port = json.loads(server.stdout.readline())["port"]
        urls = [f"https://127.0.0.1:{port}/s?{i}" for i in range(N)]
        # one connection per request, all at once
        curl = subprocess.run(["curl", "-sk", "--http1.1", "-Z", "--parallel-max", str(N),
                               "-H", "Connection: close", *urls], capture_output=True,
                              text=True, timeout=60)
        assert curl.returncode == 0 and curl.stdout.count("served /s?") == N, curl
    finally:
        server.terminate()
        server.wait(timeout=10)
    records = cleartap.stop_collector(collector)
    txns = transactions(records)
    mine = [t for t in txns if t["process"]["pid"] == server.pid]
    theirs = [t for t in txns if t["process"].get("comm") == "curl"]
    assert all(t["status"] == 200 and t["serverSide"] for t in mine)
    assert_tied(mine, theirs, port, server_side=True)


GRPCIO_CLIENT = """
import sys, threading, grpc
port, n = sys.argv[1], int(sys.argv[2])
creds = grpc.ssl_channel_credentials(open(sys.argv[3], 'rb').read())
options = [('grpc.ssl_target_name_override', 'localhost'), ('grpc.use_local_subchannel_pool', 1)]
answers = []
def call(i):
    with grpc.secure_channel('127.0.0.1:' + port, creds, options=options) as ch:
        check = ch.unary_unary('/grpc.health.v1.Health/Check')
        # HealthCheckRequest{service: "cleartap.Test"}; waits out a connect that failed
        answers.append(check(b'\\x0a\\x0dcleartap.Test', timeout=20, wait_for_ready=True))
threads = [threading.Thread(target=call, args=(i,)) for i in range(n)]
[t.start() for t in threads]
[t.join() for t in threads]
assert answers == [b'\\x08\\x01'] * n, answers  # SERVING
"""


def test_grpcio_client(cleartap, go_peers, world_readable_cert):  # noqa: F811
    """Python grpcio (gRPC's C core on the system libssl, memory BIOs) calling gRPC-Go's health
    service on 20 connections; Go's side names each connection from its own syscalls."""
    cert, key = world_readable_cert
    port = harness.free_port()
    cleartap.start_loader()
    collector = cleartap.start_collector()
    with go_server(go_peers["grpcpeer"], port, cert, key, cleartap) as server:
        p = subprocess.run(["/usr/bin/python3", "-c", GRPCIO_CLIENT, str(port), str(N),
                            str(cert)], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
    records = cleartap.stop_collector(collector)
    calls = [t for t in transactions(records) if t.get("grpc")]
    mine = [t for t in calls if t["process"]["comm"].startswith("python")]
    theirs = [t for t in calls if t["process"]["pid"] == server.pid]
    for t in mine:
        assert (t["grpc"]["service"], t["grpc"]["method"]) == ("grpc.health.v1.Health", "Check")
        assert t["grpc"]["status"].get("code", 0) == 0
    assert_mirrored(mine, theirs, port, server_side=False)


GRPCIO_SERVER = """
import sys, grpc
from concurrent import futures
def check(request, context):
    return b'\\x08\\x01'  # HealthCheckResponse{status: SERVING}
handler = grpc.method_handlers_generic_handler('grpc.health.v1.Health', {
    'Check': grpc.unary_unary_rpc_method_handler(check)})
server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
server.add_generic_rpc_handlers((handler,))
creds = grpc.ssl_server_credentials([(open(sys.argv[2], 'rb').read(), open(sys.argv[1], 'rb').read())])
port = server.add_secure_port('127.0.0.1:0', creds)
server.start()
print(port, flush=True)
sys.stdin.read()
server.stop(0)
"""


def test_grpcio_server(cleartap, go_peers, world_readable_cert):  # noqa: F811
    """A Python grpcio server answering 20 gRPC-Go clients, each on its own connection."""
    cert, key = world_readable_cert
    cleartap.start_loader()
    collector = cleartap.start_collector()
    grpcpeer = go_peers["grpcpeer"]
    server = subprocess.Popen(["/usr/bin/python3", "-c", GRPCIO_SERVER, str(cert), str(key)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        # the Go client binary probed first (a Go server of it, elsewhere), then 20 clients
        with go_server(grpcpeer, harness.free_port(), cert, key, cleartap):
            clients = [subprocess.Popen([str(grpcpeer), "client", f"127.0.0.1:{port}",
                                         "cleartap.Test"], stdout=subprocess.PIPE, text=True)
                       for _ in range(N)]
            outs = [c.communicate(timeout=60)[0].strip() for c in clients]
        assert outs == ["status SERVING"] * N, outs
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    records = cleartap.stop_collector(collector)
    calls = [t for t in transactions(records) if t.get("grpc")]
    client_pids = {c.pid for c in clients}
    mine = [t for t in calls if t["process"]["pid"] == server.pid]
    theirs = [t for t in calls if t["process"]["pid"] in client_pids]
    assert all(t["serverSide"] for t in mine)
    assert_mirrored(mine, theirs, port, server_side=True)


def assert_mirrored(mine, theirs, port, server_side):
    """Exchanges without distinct paths: the sets of connection ends mirror each other."""
    assert len(mine) == N and len(theirs) == N, (len(mine), len(theirs))
    assert all(t.get("connectionId") for t in mine), mine
    assert {ends(t) for t in mine} == {ends(t)[::-1] for t in theirs}
    assert len({ends(t) for t in mine}) == N
    assert all((ends(t)[0] if server_side else ends(t)[1])[1] == port for t in mine)
