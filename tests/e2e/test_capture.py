# SPDX-License-Identifier: Apache-2.0
"""The capture spine against real peers: curl and openssl s_server, Python ssl (the _ex calls),
1 MiB calls, truncation, and the protobuf sink agreeing with JSON."""
import base64
import json
import os
import socket
import subprocess
import threading
import time

import pytest

import harness
from harness import final_stats, assert_accounted, stream, tls_data, counter

PYTHON = "/usr/bin/python3"  # Debian's, linked against the system libssl


def read_all(conn):
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data


def curl_version():
    return subprocess.run(["curl", "--version"], capture_output=True, text=True,
                          check=True).stdout.split()[1]


def run_python_pair(ct, tls_cert, request_body, response_body, marker, trickle=0):
    cert, key = tls_cert
    port = harness.free_port()
    server = subprocess.Popen([PYTHON, str(harness.PEERS / "tls_server.py"), str(cert), str(key),
                               str(port), str(response_body), marker],
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout.readline().strip() == "ready"
    args = [PYTHON, str(harness.PEERS / "tls_client.py"), str(port), str(request_body), marker]
    if trickle:
        args += ["--trickle", str(trickle)]
    client = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True)
    server_report = json.loads(server.stdout.readline())
    server.wait(timeout=10)
    return json.loads(client.stdout), server_report


def test_curl_to_openssl_s_server(cleartap, tls_cert, tmp_path):
    cert, key = tls_cert
    marker = f"m-{os.getpid()}-{time.monotonic_ns()}"
    www = tmp_path / "www"
    www.mkdir()
    (www / "hello.txt").write_text(f"body {marker}\n")
    port = harness.free_port()
    server = subprocess.Popen(["openssl", "s_server", "-accept", str(port), "-cert", str(cert),
                               "-key", str(key), "-WWW", "-quiet"], cwd=www,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        cleartap.start_loader()
        cleartap.start_collector()
        harness.wait_for(lambda: subprocess.run(["curl", "-sk", f"https://127.0.0.1:{port}/"],
                                                capture_output=True).returncode == 0,
                         what="s_server to listen")
        curl = subprocess.Popen(["curl", "-sk", "--http1.1", f"https://127.0.0.1:{port}/hello.txt",
                                 "-H", f"X-Marker: {marker}", "-o", os.devnull])
        assert curl.wait(timeout=30) == 0
        records = cleartap.stop_collector()
    finally:
        server.kill()
        server.wait()

    request = (f"GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"User-Agent: curl/{curl_version()}\r\nAccept: */*\r\n"
               f"X-Marker: {marker}\r\n\r\n").encode()
    response = f"HTTP/1.0 200 ok\r\nContent-type: text/plain\r\n\r\nbody {marker}\n".encode()
    assert stream(records, curl.pid, "DIRECTION_WRITE") == request
    assert stream(records, curl.pid, "DIRECTION_READ") == response
    for d in tls_data(records, curl.pid):
        assert d["process"]["comm"] == "curl"
        assert d["process"]["tid"] == curl.pid  # curl is single threaded
        assert d["function"] in ("SSL_write", "SSL_read")
        assert d["fd"] >= 3 and d["fdSource"] in ("syscall", "session")
    # s_server -WWW reads and writes through BIO_f_ssl, which calls OpenSSL's internal
    # ssl_read_internal()/ssl_write_internal(), not the exported functions: not seen (README).
    assert tls_data(records, server.pid) == []
    assert_accounted(final_stats(records))


def test_python_ex_calls_both_sides(cleartap, tls_cert):
    cleartap.start_loader()
    cleartap.start_collector()
    marker = f"py-{time.monotonic_ns()}"
    client, server = run_python_pair(cleartap, tls_cert, 300, 500, marker)
    records = cleartap.stop_collector()
    sent, received = base64.b64decode(client["sent"]), base64.b64decode(client["received"])
    assert marker.encode() in sent and len(received) > 500
    assert stream(records, client["pid"], "DIRECTION_WRITE") == sent
    assert stream(records, client["pid"], "DIRECTION_READ") == received
    assert stream(records, server["pid"], "DIRECTION_READ") == base64.b64decode(server["received"])
    assert stream(records, server["pid"], "DIRECTION_WRITE") == base64.b64decode(server["sent"])
    assert {d["function"] for d in tls_data(records, client["pid"])} == {"SSL_write_ex",
                                                                         "SSL_read_ex"}
    assert_accounted(final_stats(records))


def test_one_mebibyte_each_way_is_exact(cleartap, tls_cert):
    cleartap.start_loader()
    cleartap.start_collector()
    mib = 1 << 20
    client, server = run_python_pair(cleartap, tls_cert, mib, mib, "big")
    records = cleartap.stop_collector()
    stats = final_stats(records)
    k = stats["kernel"]
    # The rings (8 MiB per shard) hold a 1 MiB call: expect no drop, and say so if there was.
    assert counter(k, "dropRingFullBytes") == 0 and counter(k, "dropReadFaultBytes") == 0, k
    sent = base64.b64decode(client["sent"])
    assert len(sent) > mib
    assert stream(records, client["pid"], "DIRECTION_WRITE") == sent
    assert stream(records, client["pid"], "DIRECTION_READ") == base64.b64decode(client["received"])
    assert stream(records, server["pid"], "DIRECTION_READ") == base64.b64decode(server["received"])
    # The client's request left in one SSL_write_ex call of more than 1 MiB, in 65+ chunks.
    writes = [d for d in tls_data(records, client["pid"]) if d["direction"] == "DIRECTION_WRITE"]
    assert len(writes) == 1 and int(writes[0]["callLength"]) == len(sent)
    assert counter(stats["collector"], "gapBytes") == 0
    assert_accounted(stats)


def test_call_beyond_cap_is_marked_truncated(cleartap, tls_cert):
    cap = 65536
    cleartap.start_loader("--max-call-bytes", str(cap))
    cleartap.start_collector()
    client, _ = run_python_pair(cleartap, tls_cert, 1 << 20, 100, "trunc")
    records = cleartap.stop_collector()
    sent = base64.b64decode(client["sent"])
    writes = [d for d in tls_data(records, client["pid"]) if d["direction"] == "DIRECTION_WRITE"]
    assert len(writes) == 1
    assert base64.b64decode(writes[0]["data"]) == sent[:cap]
    assert int(writes[0]["truncatedBytes"]) == len(sent) - cap
    assert int(writes[0]["callLength"]) == len(sent)
    k = final_stats(records)["kernel"]
    assert counter(k, "truncatedCalls") == 1
    assert counter(k, "truncatedBytes") == len(sent) - cap
    assert_accounted(final_stats(records))


@pytest.mark.parametrize("sink", ["file", "unix"])
def test_protobuf_sink_matches_json(cleartap, tls_cert, tmp_path, sink):
    cleartap.start_loader()
    if sink == "file":
        proto_file = cleartap.dir / "records.pb"
        proto_file.touch()
        os.chown(proto_file, harness.NOBODY, harness.NOBODY)  # the collector is unprivileged
        cleartap.start_collector("--proto", str(proto_file))
    else:
        path = str(cleartap.dir / "sink.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        os.chmod(path, 0o666)
        listener.listen(1)
        received = []
        reader = threading.Thread(target=lambda: received.append(read_all(listener.accept()[0])))
        reader.start()
        cleartap.start_collector("--proto", "unix:" + path)
    run_python_pair(cleartap, tls_cert, 100, 100, "proto")
    records = cleartap.stop_collector()
    if sink == "file":
        raw = proto_file.read_bytes()
    else:
        reader.join(timeout=10)
        raw = received[0]
    decoded = harness.decode_delimited(raw, tmp_path)
    if len(decoded) != len(records):
        pytest.fail(f"{len(decoded)} protobuf records vs {len(records)} JSON lines")
    assert decoded == records
    assert len(tls_data(records)) >= 4


def test_nonblocking_want_read_and_want_write(cleartap, tls_cert):
    """Calls that return WANT_READ/WANT_WRITE (SSL_read_ex/SSL_write_ex returning 0) carry no
    data; the calls between them do. Both streams of both peers come out byte-exact, whatever
    exit site the planner chose."""
    cert, key = tls_cert
    size = 3 * 1024 * 1024
    port = harness.free_port()
    cleartap.start_loader()
    cleartap.start_collector()
    server = subprocess.Popen([PYTHON, str(harness.PEERS / "nonblocking_peer.py"), "server",
                               str(port), str(size), str(cert), str(key)],
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout.readline().strip() == "ready"
    client = subprocess.run([PYTHON, str(harness.PEERS / "nonblocking_peer.py"), "client",
                             str(port), str(size)], capture_output=True, text=True, timeout=60,
                            check=True)
    peers = [json.loads(client.stdout), json.loads(server.stdout.readline())]
    server.wait(timeout=10)
    records = cleartap.stop_collector()

    import hashlib
    # the conditions really happened (the peers' own counts, not cleartap's)
    assert sum(p["want_read"] for p in peers) > 0 and sum(p["want_write"] for p in peers) > 0
    for p in peers:
        assert p["sent"] == p["received"] == size
        sent = stream(records, p["pid"], "DIRECTION_WRITE")
        received = stream(records, p["pid"], "DIRECTION_READ")
        assert (len(sent), hashlib.sha256(sent).hexdigest()) == (size, p["sent_sha256"])
        assert (len(received), hashlib.sha256(received).hexdigest()) == (
            size, p["received_sha256"])
        # only calls that moved data became records
        assert all(int(d["callLength"]) > 0 for d in tls_data(records, p["pid"]))
    assert_accounted(final_stats(records))
