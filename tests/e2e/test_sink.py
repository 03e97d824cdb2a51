# SPDX-License-Identifier: Apache-2.0
"""A --proto unix: consumer cannot stop or kill the collector: one that reads slowly gets whole
records (the rest dropped whole and counted), one that goes away is dropped and counted, and
stdout carries every record either way."""
import base64
import os
import socket
import threading
import time

import harness
from harness import final_stats, counter, stream, tls_data
from test_capture import run_python_pair, read_all


def listen(path):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o666)
    listener.listen(1)
    return listener


def test_slow_consumer_gets_whole_records_and_the_rest_is_counted(cleartap, tls_cert, tmp_path):
    path = str(cleartap.dir / "sink.sock")
    listener = listen(path)
    go, received = threading.Event(), []

    def consumer():
        conn = listener.accept()[0]
        go.wait(60)  # reads nothing while ~12 MiB of records come: more than queue and socket
        received.append(read_all(conn))
    reader = threading.Thread(target=consumer)
    reader.start()
    cleartap.start_loader()
    cleartap.start_collector("--proto", "unix:" + path)
    client, server = run_python_pair(cleartap, tls_cert, 3 << 20, 3 << 20, "slow-sink")
    time.sleep(0.5)
    go.set()
    records = cleartap.stop_collector()  # alive and draining all along
    reader.join(timeout=20)
    decoded = harness.decode_delimited(received[0], tmp_path)
    dropped = counter(final_stats(records)["collector"], "sinkDroppedRecords")
    assert dropped > 0
    # what the consumer got is exactly stdout's records minus the dropped ones, in order, whole
    assert decoded[-1] == records[-1] and decoded[-1]["stats"].get("final")
    assert len(decoded) + dropped == len(records)
    it = iter(records)
    assert all(any(d == r for r in it) for d in decoded), "not a subsequence of stdout's"
    # stdout lost nothing: 3 MiB each way (under the 4 MiB per-call cap), as the peers saw it
    for peer, direction, key in ((client, "DIRECTION_WRITE", "sent"),
                                 (client, "DIRECTION_READ", "received"),
                                 (server, "DIRECTION_WRITE", "sent"),
                                 (server, "DIRECTION_READ", "received")):
        assert stream(records, peer["pid"], direction) == base64.b64decode(peer[key])


def test_consumer_that_goes_away_is_dropped_and_counted(cleartap, tls_cert):
    path = str(cleartap.dir / "sink.sock")
    listener = listen(path)
    accepted = threading.Thread(target=lambda: listener.accept()[0].close())
    accepted.start()
    cleartap.start_loader()
    collector = cleartap.start_collector("--proto", "unix:" + path)
    accepted.join(timeout=10)
    run_python_pair(cleartap, tls_cert, 100, 100, "gone-sink")
    run_python_pair(cleartap, tls_cert, 100, 100, "gone-sink")
    assert collector.poll() is None  # no SIGPIPE
    records = cleartap.stop_collector()
    assert collector.returncode == 0
    assert len(tls_data(records)) >= 8  # stdout has it all
    dropped = counter(final_stats(records)["collector"], "sinkDroppedRecords")
    assert dropped >= 8
    log = collector.err_path.read_text()
    # said once, with the reason the kernel gave
    said = [line for line in log.splitlines() if f"--proto unix:{path}: " in line]
    assert len(said) == 1 and said[0].split(f"{path}: ")[1] in (
        "Broken pipe; its records are counted as sinkDroppedRecords from now on",
        "Connection reset by peer; its records are counted as sinkDroppedRecords from now on"), log
