# SPDX-License-Identifier: Apache-2.0
"""A --proto unix: consumer cannot stop or kill the collector: one that reads slowly gets whole
records (the rest dropped whole and counted), one that goes away is dropped and counted, and
stdout carries every record either way."""
import base64
import os
import pathlib
import signal
import socket
import subprocess
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
    # the consumer goes away for good: nothing listens there any more
    accepted = threading.Thread(target=lambda: (listener.accept()[0].close(), listener.close()))
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
        "Broken pipe; its records are counted as sinkDroppedRecords until it is back",
        "Connection reset by peer; its records are counted as sinkDroppedRecords until it is "
        "back"), log
    assert ": connected" not in log  # tried again each second, never reached


def proto_logs(cleartap):
    """A directory the collector's user owns, and the --proto file to be written there."""
    logs = cleartap.dir / "logs"
    logs.mkdir()
    os.chown(logs, harness.NOBODY, harness.NOBODY)
    return logs, logs / "records.pb"


def collector_with_proto_file(cleartap):
    """A collector writing --proto logs/records.pb."""
    logs, path = proto_logs(cleartap)
    cleartap.start_loader()
    return logs, path, cleartap.start_collector("--proto", str(path))


def test_proto_file_is_reopened_on_sighup(cleartap, tls_cert, tmp_path):
    """Log rotation: the file is renamed, SIGHUP, and records go on in a new file by the same
    name; every stdout record is in exactly one of the two, in order, split at the rotation. The
    collector opens nothing itself: its opener child (forked before any data, holding only its
    socket, its own filter) does."""
    logs, path, collector = collector_with_proto_file(cleartap)
    opener = harness.opener_of(collector.pid)
    status = pathlib.Path(f"/proc/{opener}/status").read_text()
    assert f"Uid:\t{harness.NOBODY}\t" in status and "Seccomp:\t2" in status
    assert "NoNewPrivs:\t1" in status and "CapEff:\t0000000000000000" in status
    assert os.listdir(f"/proc/{opener}/fd") == ["3"]  # its socket: no ring, no stdout
    first, _ = run_python_pair(cleartap, tls_cert, 1000, 1000, "before-rotation")
    time.sleep(0.5)
    os.rename(path, logs / "records.pb.1")
    collector.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: "reopened" in collector.err_path.read_text(), what="the reopen")
    second, _ = run_python_pair(cleartap, tls_cert, 1000, 1000, "after-rotation")
    records = cleartap.stop_collector()

    old = harness.decode_delimited((logs / "records.pb.1").read_bytes(), tmp_path)
    new = harness.decode_delimited(path.read_bytes(), tmp_path)
    assert old and new and old + new == records
    pids = [{r["tlsData"]["process"]["pid"] for r in part if "tlsData" in r} for part in (old, new)]
    assert first["pid"] in pids[0] and first["pid"] not in pids[1]
    assert second["pid"] in pids[1] and second["pid"] not in pids[0]
    st = path.stat()
    assert (st.st_uid, st.st_mode & 0o777) == (harness.NOBODY, 0o640)


def test_proto_reopen_refuses_a_symlink(cleartap, tls_cert, tmp_path):
    """Whoever can write the log directory cannot redirect the records through a symlink: the
    reopen is refused, said, and the records go on where they went."""
    logs, path, collector = collector_with_proto_file(cleartap)
    os.rename(path, logs / "records.pb.1")
    elsewhere = logs / "elsewhere.pb"
    os.symlink(elsewhere, path)
    collector.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: "cannot reopen" in collector.err_path.read_text(),
                     what="the refusal")
    assert "Too many levels of symbolic links" in collector.err_path.read_text()
    run_python_pair(cleartap, tls_cert, 100, 100, "symlinked")
    records = cleartap.stop_collector()
    assert not elsewhere.exists()
    assert harness.decode_delimited((logs / "records.pb.1").read_bytes(), tmp_path) == records


def test_stdout_reader_that_goes_away_does_not_stop_capture(cleartap, tls_cert, tmp_path):
    """`cleartap-collector | head`: once the reader of stdout is gone, writes there fail and are
    counted (no SIGPIPE death); draining and the --proto file go on."""
    _, path = proto_logs(cleartap)
    cleartap.start_loader()
    err = cleartap.dir / "collector-pipe.err"
    collector = subprocess.Popen([*harness.AS_NOBODY, str(harness.COLLECTOR), "--socket",
                                  cleartap.socket, "--stats-interval", "0", "--raw", "--proto",
                                  str(path)], stdout=subprocess.PIPE, stderr=open(err, "w"))
    harness.wait_for(lambda: "locked down" in err.read_text(), what="the collector")
    collector.stdout.close()  # the reader goes away
    client, _ = run_python_pair(cleartap, tls_cert, 200000, 1000, "no-stdout-reader")
    time.sleep(0.5)
    assert collector.poll() is None, err.read_text()  # alive: no SIGPIPE
    collector.send_signal(signal.SIGINT)
    assert collector.wait(timeout=20) == 0, err.read_text()
    records = harness.decode_delimited(path.read_bytes(), tmp_path)
    assert stream(records, client["pid"], "DIRECTION_WRITE") == base64.b64decode(client["sent"])
    assert counter(records[-1]["stats"]["collector"], "outputErrors") > 0
