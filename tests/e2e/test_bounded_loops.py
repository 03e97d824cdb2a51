# SPDX-License-Identifier: Apache-2.0
"""Kernels without bpf_loop (5.15, 5.16) run the programs with bounded copy loops: 64 KiB of a
call and the first 8 iovecs of a vectored syscall are copied, the rest is counted as truncated,
and nothing else changes. Run here with the feature hidden from the loader
(--test-hide-feature bpf_loop), which makes the verifier see exactly that variant; the peer's
own view of the bytes is the truth."""
import base64
import os
import socket
import subprocess
import threading

import harness
from harness import assert_accounted, counter, final_stats, stream, tls_data
from test_capture import PYTHON, run_python_pair

BOUNDED_CALL_BYTES = 65536  # CLEARTAP_BOUNDED_MAX_CALL_BYTES
BOUNDED_IOVECS = 8  # CLEARTAP_BOUNDED_MAX_IOV
DEGRADED = "no bpf_loop (Linux 5.17): bounded copy loops instead"


def start(cleartap):
    cleartap.start_loader("--test-hide-feature", "bpf_loop")
    cleartap.start_collector()
    assert f"cleartap-loader: kernel: {DEGRADED}" in cleartap.loader_log()


def test_a_large_call_is_copied_to_64_kib_and_the_rest_counted(cleartap, tls_cert):
    start(cleartap)
    client, server = run_python_pair(cleartap, tls_cert, 1 << 20, 5000, "bounded")
    records = cleartap.stop_collector()
    sent = base64.b64decode(client["sent"])
    # the client's request: one SSL_write_ex of more than 1 MiB, cut at 64 KiB
    writes = [d for d in tls_data(records, client["pid"]) if d["direction"] == "DIRECTION_WRITE"]
    assert len(writes) == 1 and int(writes[0]["callLength"]) == len(sent)
    assert base64.b64decode(writes[0]["data"]) == sent[:BOUNDED_CALL_BYTES]
    assert int(writes[0]["truncatedBytes"]) == len(sent) - BOUNDED_CALL_BYTES
    # the server reads it a TLS record (16 KiB) at a time: every byte, as the client sent it
    assert stream(records, server["pid"], "DIRECTION_READ") == base64.b64decode(server["received"])
    assert base64.b64decode(server["received"]) == sent
    assert stream(records, client["pid"], "DIRECTION_READ") == base64.b64decode(client["received"])
    stats = final_stats(records)
    assert counter(stats["kernel"], "truncatedCalls") == 1
    assert counter(stats["kernel"], "truncatedBytes") == len(sent) - BOUNDED_CALL_BYTES
    assert any(d.startswith(DEGRADED) for d in stats.get("kernelDegraded", [])), stats
    assert_accounted(stats)


def test_iovecs_past_the_eighth_are_counted_not_copied(cleartap):
    """sendmsg() of 12 iovecs over plain TCP: the first 8 are copied, the last 4 are told as
    the truncation of the 8th's record; the receiver's recv() calls are copied whole."""
    parts = [bytes([0x41 + i]) * (100 + i) for i in range(12)]
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    start(cleartap)
    received = []

    def serve():
        conn, _ = listener.accept()
        with conn:
            while chunk := conn.recv(65536):
                received.append(chunk)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    client = subprocess.run([PYTHON, "-c", f"""
import os, socket
s = socket.create_connection(("127.0.0.1", {port}))
assert s.sendmsg({parts!r}) == {sum(map(len, parts))}
print(os.getpid())
s.close()
"""], capture_output=True, text=True, check=True, timeout=30)
    t.join(timeout=30)
    records = cleartap.stop_collector()
    pid = int(client.stdout)
    sent = b"".join(parts)
    assert b"".join(received) == sent
    data = [d for d in tls_data(records, pid) if d["direction"] == "DIRECTION_WRITE"]
    assert [d["function"] for d in data] == ["sendmsg"] * BOUNDED_IOVECS
    assert [base64.b64decode(d.get("data", "")) for d in data] == parts[:BOUNDED_IOVECS]
    rest = sum(map(len, parts[BOUNDED_IOVECS:]))
    assert [int(d.get("truncatedBytes", 0)) for d in data] == [0] * 7 + [rest]
    assert int(data[-1]["callLength"]) == len(parts[7]) + rest
    # the receiving side: every byte, in the order the sender wrote them
    assert stream(records, os.getpid(), "DIRECTION_READ") == sent
    k = final_stats(records)["kernel"]
    assert counter(k, "truncatedCalls") == 1 and counter(k, "truncatedBytes") == rest
    assert_accounted(final_stats(records))
