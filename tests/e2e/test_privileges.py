# SPDX-License-Identifier: Apache-2.0
"""The privilege promises of DESIGN.md, checked from outside the processes (/proc/PID/status)."""
import base64
import mmap
import os
import pathlib
import re
import signal
import subprocess
import time

import pytest

import harness
from harness import assert_unprivileged, stream
from test_capture import run_python_pair

FORBIDDEN = ["execve", "bpf-prog-load", "ptrace", "raw-socket", "unix-socket", "exec-memory",
             "open-for-writing", "open-for-reading", "bpf-link-create", "bpf-map-lookup"]


def assert_counters_read_only(pid):
    """The collector maps the counters instead of reading them with bpf(): the map is frozen,
    so the kernel refuses the collector's descriptor a writable mapping (it cannot forge the
    drop counts) and grants a readable one."""
    maps = harness.bpf_objects_of(pid, "map")
    # BPF_MAP_TYPE_ARRAY (2) with BPF_F_MMAPABLE (0x400): the counters; RINGBUF is 27
    counters = [fd for fd, m in maps.items()
                if int(m["map_type"]) == 2 and int(m["map_flags"], 16) & 0x400]
    assert len(counters) == 1 and any(int(m["map_type"]) == 27 for m in maps.values()), maps
    assert maps[counters[0]].get("frozen") == "1", maps[counters[0]]
    fd = harness.fd_of(pid, counters[0])
    try:
        with pytest.raises(PermissionError):
            mmap.mmap(fd, mmap.PAGESIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        mmap.mmap(fd, mmap.PAGESIZE, mmap.MAP_SHARED, mmap.PROT_READ).close()
    finally:
        os.close(fd)


def test_collector_holds_nothing(cleartap, tls_cert):
    cleartap.start_loader()
    collector = cleartap.start_collector()
    assert_unprivileged(collector.pid)
    assert harness.privileges_of(collector.pid)["Uid"] == [str(harness.NOBODY)] * 4
    # no program and no link: it cannot attach anything (the kernel's view of its descriptors);
    # the loader holds the programs
    assert harness.bpf_ids_of(collector.pid, "prog") == set()
    assert harness.bpf_ids_of(collector.pid, "link") == set()
    assert len(harness.bpf_ids_of(collector.pid, "map")) >= 2  # rings and counters
    assert len(harness.bpf_ids_of(cleartap.loader.pid, "prog")) >= 2
    assert_counters_read_only(collector.pid)
    # at most 256 descriptors: a leak stops there, far below the host's limit
    limits = pathlib.Path(f"/proc/{collector.pid}/limits").read_text()
    assert re.search(r"^Max open files\s+256\s+256\s", limits, re.M), limits
    # ... and works like that, through a capture and a clean stop.
    client, _ = run_python_pair(cleartap, tls_cert, 10, 10, "sandboxed")
    assert_unprivileged(collector.pid)
    records = cleartap.stop_collector()
    assert stream(records, client["pid"], "DIRECTION_WRITE") == base64.b64decode(client["sent"])


def test_collector_started_as_root_drops_to_user(cleartap):
    cleartap.start_loader()
    collector = cleartap.start_collector(as_root_with_user="nobody")
    assert_unprivileged(collector.pid)
    cleartap.stop_collector()


@pytest.mark.parametrize("call", FORBIDDEN)
def test_forbidden_call_kills_collector(cleartap, tls_cert, call):
    cleartap.start_loader()
    p = subprocess.run([*harness.AS_NOBODY, str(harness.COLLECTOR_TEST), "--socket",
                        cleartap.socket, "--test-forbidden", call], capture_output=True, text=True,
                       timeout=30)
    assert "locked down" in p.stderr  # it got as far as the attempt
    assert p.returncode == -signal.SIGSYS, (p.returncode, p.stderr)
    assert "survived" not in p.stderr
    # Capture keeps working for a new collector afterwards.
    cleartap.start_collector()
    client, _ = run_python_pair(cleartap, tls_cert, 10, 10, "after-" + call)
    records = cleartap.stop_collector()
    assert stream(records, client["pid"], "DIRECTION_WRITE") == base64.b64decode(client["sent"])


@pytest.mark.parametrize("switch", ["--test-forbidden=execve", "--test-drop-call=curl:write:0"])
def test_production_collector_has_no_test_switches(switch):
    """The installed collector cannot be told to lose data or to make forbidden calls: the
    options, and the code behind them, exist only in cleartap-collector-test."""
    p = subprocess.run([str(harness.COLLECTOR), switch, "--socket", "/nonexistent"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 1 and "unrecognized option" in p.stderr, p.stderr
    binary = harness.COLLECTOR.read_bytes()
    assert switch.split("=")[0][2:].encode() not in binary
    assert b"survived forbidden call" not in binary
    assert switch.split("=")[0][2:].encode() in harness.COLLECTOR_TEST.read_bytes()
