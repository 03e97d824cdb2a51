# SPDX-License-Identifier: Apache-2.0
"""--record-to keeps the kernel records as drained; replaying them through the collector's
pipeline (bench/replay_bench, the collector benchmark) yields the transactions the live
collector exported, and each repetition counts as new traffic."""
import os
import re
import subprocess

import harness

REPLAY = harness.BUILD / "bench" / "replay_bench"


def replay(path, repeat):
    out = subprocess.run([str(REPLAY), str(path), str(repeat)], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"^(\d+) HTTP transactions \((\d+) malformed, (\d+) desynchronised\)", out,
                  re.M)
    assert m, out
    return tuple(int(x) for x in m.groups())


def test_recorded_records_replay_to_the_same_transactions(cleartap, tls_cert, tmp_path):
    cert, key = tls_cert
    port = harness.free_port()
    rec_dir = cleartap.dir / "rec"  # a directory nobody can reach
    rec_dir.mkdir()
    os.chmod(rec_dir, 0o777)  # the collector runs as nobody
    records_file = rec_dir / "records"
    server = subprocess.Popen(["openssl", "s_server", "-accept", str(port), "-cert", str(cert),
                               "-key", str(key), "-www", "-quiet"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        cleartap.start_loader()
        cleartap.start_collector("--record-to", str(records_file))
        harness.wait_for(lambda: subprocess.run(["curl", "-sk", f"https://127.0.0.1:{port}/"],
                                                capture_output=True).returncode == 0,
                         what="s_server to listen")
        for i in range(5):
            subprocess.run(["curl", "-sk", "--http1.1", f"https://127.0.0.1:{port}/r{i}",
                            "-o", os.devnull], check=True, timeout=30)
        records = cleartap.stop_collector()
    finally:
        server.kill()
        server.wait()

    live = [r["http"] for r in records if "http" in r]
    assert sum(1 for h in live if h.get("path", "").startswith("/r")) == 5
    assert records_file.read_bytes()[:8] == b"CTRECS01"
    assert oct(records_file.stat().st_mode & 0o777) == "0o600"
    assert replay(records_file, 1) == (len(live), 0, 0)
    assert replay(records_file, 3) == (3 * len(live), 0, 0)
    # a recording of another schema is refused in a sentence, not replayed to nothing
    older = tmp_path / "older"
    raw = bytearray(records_file.read_bytes())
    version = int.from_bytes(raw[8 + 4 + 2:8 + 4 + 4], "little")  # magic, size, type, version
    raw[8 + 4 + 2:8 + 4 + 4] = (version - 1).to_bytes(2, "little")
    older.write_bytes(raw)
    p = subprocess.run([str(REPLAY), str(older), "1"], capture_output=True, text=True)
    assert p.returncode == 1 and p.stderr == (
        f"replay_bench: {older} holds records of schema {version - 1}, this build reads "
        f"{version}: record them again with this build's collector\n"), p.stderr


def test_record_to_refuses_an_existing_file(cleartap):
    existing = cleartap.dir / "exists"
    existing.write_bytes(b"keep me")
    os.chmod(existing, 0o666)  # writable: O_EXCL, not the mode, must refuse it
    cleartap.start_loader()
    p = subprocess.run([*harness.AS_NOBODY, str(harness.COLLECTOR), "--socket", cleartap.socket,
                        "--wait", "5", "--record-to", str(existing)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "cannot create --record-to" in p.stderr and "File exists" in p.stderr, p.stderr
    assert existing.read_bytes() == b"keep me"
