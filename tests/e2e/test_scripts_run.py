# SPDX-License-Identifier: Apache-2.0
"""scripts/run removes its probes when it stops (a pinned probe nobody reads still costs every
TLS call on the host), and leaves them with --keep-probes."""
import os
import pathlib
import signal
import subprocess
import tempfile
import time

import harness

PINS = pathlib.Path("/sys/fs/bpf/cleartap")  # scripts/run uses the loader's default pin dir


def run_and_stop(tmp_path, *args):
    sock_dir = tempfile.mkdtemp(prefix="cleartap-run-")
    os.chmod(sock_dir, 0o755)  # the collector (its own user) connects there
    env = dict(os.environ, CLEARTAP_BUILD=str(harness.BUILD),
               CLEARTAP_SOCKET=os.path.join(sock_dir, "handoff.sock"))
    out = open(tmp_path / "run.out", "w")
    p = subprocess.Popen([str(harness.ROOT / "scripts" / "run"), *args], stdout=out,
                         stderr=subprocess.STDOUT, env=env, start_new_session=True)
    harness.wait_for(lambda: "locked down" in (tmp_path / "run.out").read_text()
                     or p.poll() is not None, timeout=60, what="scripts/run to start")
    assert p.poll() is None, (tmp_path / "run.out").read_text()
    assert (PINS / "links").is_dir()
    os.killpg(p.pid, signal.SIGINT)  # what Ctrl-C in its terminal does
    p.wait(timeout=30)
    return (tmp_path / "run.out").read_text()


def test_scripts_run_unloads_even_when_the_collector_fails(tmp_path):
    """A socket the collector cannot reach: it exits at once, and the probes still go."""
    assert not PINS.exists(), "another cleartap is pinned at the default place"
    env = dict(os.environ, CLEARTAP_BUILD=str(harness.BUILD),
               CLEARTAP_SOCKET=str(tmp_path / "handoff.sock"))  # tmp_path: root only
    p = subprocess.run([str(harness.ROOT / "scripts" / "run")], env=env, capture_output=True,
                       text=True, timeout=120)
    assert "cannot get descriptors" in p.stderr + p.stdout
    assert "removed every pin under /sys/fs/bpf/cleartap" in p.stderr + p.stdout
    assert not PINS.exists()


def test_scripts_run_unloads_on_exit(tmp_path):
    assert not PINS.exists(), "another cleartap is pinned at the default place"
    text = run_and_stop(tmp_path)
    assert "removed every pin under /sys/fs/bpf/cleartap" in text
    assert not PINS.exists()


def test_scripts_run_keeps_probes_when_asked(tmp_path):
    assert not PINS.exists(), "another cleartap is pinned at the default place"
    try:
        text = run_and_stop(tmp_path, "--keep-probes")
        assert "probes stay pinned" in text
        assert (PINS / "links").is_dir() and any((PINS / "links").iterdir())
    finally:
        subprocess.run([str(harness.LOADER), "--unload"], capture_output=True)
        time.sleep(0.1)
    assert not PINS.exists()
