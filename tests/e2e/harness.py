# SPDX-License-Identifier: Apache-2.0
"""Runs a real cleartap (loader as root, collector as uid 65534) with its own pin directory and
socket, so tests never collide with a running cleartap, earlier leftovers or each other."""
import base64
import itertools
import json
import os
import pathlib
import shlex
import re
import signal
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("CLEARTAP_BUILD", ROOT / "build"))
# Loader options for a whole run: "--test-hide-feature bpf_loop" runs the programs a kernel
# without bpf_loop gets, on a kernel that has it (tests/kernels/run does, for 5.15's variant).
LOADER_EXTRA = shlex.split(os.environ.get("CLEARTAP_TEST_LOADER_ARGS", ""))
HIDDEN_FEATURES = {LOADER_EXTRA[i + 1] for i, a in enumerate(LOADER_EXTRA[:-1])
                   if a == "--test-hide-feature"}
LOADER = BUILD / "loader" / "cleartap-loader"
COLLECTOR = BUILD / "collector" / "cleartap-collector"
# the same collector with the switches only tests use (--test-*); never installed
COLLECTOR_TEST = BUILD / "collector" / "cleartap-collector-test"
PEERS = pathlib.Path(__file__).resolve().parent / "peers"
NOBODY = 65534
AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
             "--inh-caps=-all", "--bounding-set=-all"]
_ids = itertools.count()


def require_bpf():
    """BPF tests fail (never skip) where BPF cannot run: CI must not go green without them."""
    problems = []
    if os.geteuid() != 0:
        problems.append("not running as root")
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        problems.append("kernel has no BTF")
    if not LOADER.exists() or not COLLECTOR.exists() or not COLLECTOR_TEST.exists():
        problems.append(f"binaries not built under {BUILD}")
    if problems:
        pytest.fail("BPF e2e tests cannot run: " + ", ".join(problems))


def kernel_version():
    return tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])


# The release that brought each kernel feature the loader probes (Debian's kernels backport none).
FEATURE_SINCE = {"ringbuf": (5, 8), "socket_cookie": (5, 12), "perf_link": (5, 15),
                 "attach_cookie": (5, 15), "bpf_loop": (5, 17), "uprobe_multi": (6, 6)}


def unprivileged_bpf_disabled():
    with open("/proc/sys/kernel/unprivileged_bpf_disabled") as f:
        return int(f.read())


def kernel_has(feature):
    """Whether the loaders the tests start see feature: the kernel has it and the run does not
    hide it (without attach cookies the loader gives uprobe_multi up too)."""
    if feature in HIDDEN_FEATURES or (feature == "uprobe_multi" and
                                      "attach_cookie" in HIDDEN_FEATURES):
        return False
    return kernel_version() >= FEATURE_SINCE[feature]


def kernel_has_uprobe_multi():
    """Linux 6.6 brought uprobe_multi links."""
    return kernel_has("uprobe_multi")


def decode_delimited(raw, tmp_path):
    """Length-delimited protobuf Records (the --proto format) as proto3-JSON dicts, with the
    schema compiled by protoc (an independent decoder, not cleartap's own)."""
    import sys
    subprocess.run(["protoc", f"--proto_path={ROOT / 'proto'}", f"--python_out={tmp_path}",
                    "cleartap.proto"], check=True)
    sys.path.insert(0, str(tmp_path))
    try:
        import cleartap_pb2
        from google.protobuf.json_format import MessageToDict
    finally:
        sys.path.pop(0)
    decoded, pos = [], 0
    while pos < len(raw):
        length, shift = 0, 0
        while True:
            b = raw[pos]
            pos += 1
            length |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        assert pos + length <= len(raw), "a record cut short: the framing broke"
        msg = cleartap_pb2.Record()
        msg.ParseFromString(raw[pos:pos + length])
        pos += length
        decoded.append(MessageToDict(msg))
    return decoded


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Cleartap:
    def __init__(self):
        self.id = f"{os.getpid()}-{next(_ids)}"
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix=f"cleartap-test-{self.id}-"))
        self.dir.chmod(0o755)  # the collector (nobody) must reach the socket
        self.pin_dir = f"/sys/fs/bpf/cleartap-test-{self.id}"
        self.socket = str(self.dir / "handoff.sock")
        self.loader = None
        self.served = 0
        self.collectors = []

    # --- loader ---
    def loader_cmd(self, *args):
        return [str(LOADER), "--pin-dir", self.pin_dir, "--socket", self.socket,
                *LOADER_EXTRA, *args]

    def run_loader(self, *args, check=True):
        p = subprocess.run(self.loader_cmd(*args), capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError(f"loader failed: {p.stderr}")
        return p

    def start_loader(self, *args, allow_nobody=True, prefix=()):
        log = open(self.dir / "loader.log", "a")
        extra = ["--allow-uid", str(NOBODY)] if allow_nobody else []
        self.loader = subprocess.Popen([*prefix, *self.loader_cmd(*extra, *args)], stderr=log,
                                       stdout=subprocess.DEVNULL)
        wait_for(lambda: self.loader_log().count("serving descriptors") > self.served
                 or self.loader.poll() is not None, timeout=60,
                 what="loader to serve")  # 5.10 under TCG verifies per-cookie instances
        self.served += 1
        assert self.loader.poll() is None, self.loader_log()

    def loader_log(self):
        path = self.dir / "loader.log"
        return path.read_text() if path.exists() else ""

    # --- collector ---
    def start_collector(self, *args, as_root_with_user=None, launcher=()):
        n = len(self.collectors)
        prefix = AS_NOBODY if as_root_with_user is None else []
        prefix = [*prefix, *launcher]
        if as_root_with_user:
            args = ("--user", as_root_with_user, *args)
        out = open(self.dir / f"collector{n}.out", "wb")
        err = open(self.dir / f"collector{n}.err", "w")
        binary = COLLECTOR_TEST if any(a.startswith("--test-") for a in args) else COLLECTOR
        p = subprocess.Popen([*prefix, str(binary), "--socket", self.socket,
                              "--stats-interval", "0", "--wait", "5", "--raw", *args],
                             stdout=out, stderr=err)
        p.out_path = self.dir / f"collector{n}.out"
        p.err_path = self.dir / f"collector{n}.err"
        self.collectors.append(p)
        wait_for(lambda: "locked down" in p.err_path.read_text() or p.poll() is not None,
                 what="collector to lock down")
        assert p.poll() is None, p.err_path.read_text()
        return p

    def stop_collector(self, p=None):
        """SIGINT (clean stop: drains, flushes, final stats) and the records it printed."""
        p = p or self.collectors[-1]
        time.sleep(0.1)  # a few drain intervals for what is in the rings
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=20) == 0, p.err_path.read_text()
        return [json.loads(line) for line in p.out_path.read_bytes().splitlines()]

    # --- kernel objects ---
    def prog_ids(self):
        ids = set()
        for name in ("ct_tls_enter", "ct_tls_return", "ct_sys_enter"):
            out = subprocess.run(["bpftool", "-j", "prog", "show", "pinned",
                                  f"{self.pin_dir}/progs/{name}"],
                                 capture_output=True, text=True)
            if out.returncode == 0:
                ids.add(json.loads(out.stdout)["id"])
        return ids

    def link_count(self):
        ids = self.prog_ids()
        links = json.loads(subprocess.run(["bpftool", "-j", "link", "show"], check=True,
                                          capture_output=True, text=True).stdout or "[]")
        return sum(1 for link in links if link.get("prog_id") in ids)

    def pins(self):
        root = pathlib.Path(self.pin_dir)
        return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []

    def close(self):
        for p in self.collectors:
            if p.poll() is None:
                p.kill()
                p.wait()
        if self.loader and self.loader.poll() is None:
            self.loader.terminate()
            self.loader.wait(timeout=10)
        subprocess.run([str(LOADER), "--unload", "--pin-dir", self.pin_dir],
                       capture_output=True)


def privileges_of(pid):
    """The privilege fields of /proc/PID/status, as the kernel reports them."""
    fields = {}
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("Uid", "Gid", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs",
                    "Seccomp"):
            fields[name] = value.split()
    return fields


def assert_unprivileged(pid):
    f = privileges_of(pid)
    for caps in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(f[caps][0], 16) == 0, (caps, f)
    assert f["NoNewPrivs"] == ["1"], f
    assert f["Seccomp"] == ["2"], f  # filter mode
    assert "0" not in f["Uid"] and "0" not in f["Gid"], f
    # not dumpable (a core would hold plaintext): the kernel then gives its /proc files to root
    # although the process is not root, and refuses it a core file
    assert os.stat(f"/proc/{pid}/status").st_uid == 0, "dumpable"
    limits = pathlib.Path(f"/proc/{pid}/limits").read_text()
    assert re.search(r"^Max core file size\s+0\s+0\s", limits, re.M), limits


def opener_of(collector_pid):
    """The collector's one child: its opener (the --proto file, connections to the loader)."""
    children = pathlib.Path(f"/proc/{collector_pid}/task/{collector_pid}/children").read_text()
    [pid] = children.split()
    return int(pid)


def bpf_objects_of(pid, kind="map"):
    """{fd: fdinfo fields} of the BPF objects of one kind ("map", "prog", "link") behind a
    process's descriptors, as the kernel tells them (/proc/PID/fdinfo: map_type, map_flags,
    flags (the open flags, octal), frozen, ...)."""
    objects = {}
    for info in pathlib.Path(f"/proc/{pid}/fdinfo").iterdir():
        try:
            lines = info.read_text().splitlines()
        except OSError:
            continue
        fields = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in lines
                                                    if ":" in line)}
        if f"{kind}_id" in fields:
            objects[int(info.name)] = fields
    return objects


def bpf_ids_of(pid, kind="map"):
    """Ids of the BPF objects of one kind behind a process's descriptors."""
    return {int(f[f"{kind}_id"]) for f in bpf_objects_of(pid, kind).values()}


def fd_of(pid, fd):
    """A descriptor of another process, duplicated into this one (pidfd_getfd: root)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        got = libc.syscall(438, pidfd, fd, 0)  # SYS_pidfd_getfd
        if got < 0:
            raise OSError(ctypes.get_errno(), "pidfd_getfd")
        return got
    finally:
        os.close(pidfd)


# --- reading the collector's records ---

def connections(records):
    """Connection records by connection id, in order."""
    by_id = {}
    for r in records:
        if "connection" in r:
            by_id.setdefault(r["connection"]["id"], []).append(r["connection"])
    return by_id


def is_open(connection):
    """A Connection record reporting the open (not the handshake, not the close)."""
    return not connection.get("closed") and not connection.get("handshake")


def body(txn, which="responseBody"):
    """A transaction's body as bytes: a text body is a string (responseBodyText), any other
    is base64 (responseBody); never both."""
    assert not (txn.get(which) and txn.get(which + "Text")), txn
    if which + "Text" in txn:
        return txn[which + "Text"].encode()
    return base64.b64decode(txn.get(which, ""))


def header_bytes(field):
    """A header's value as bytes: text values are strings, others base64 in valueBytes."""
    assert not (field.get("value") and field.get("valueBytes")), field
    if "valueBytes" in field:
        return base64.b64decode(field["valueBytes"])
    return field.get("value", "").encode()


def tls_data(records, pid=None):
    return [r["tlsData"] for r in records
            if "tlsData" in r and (pid is None or r["tlsData"]["process"]["pid"] == pid)]


def stream(records, pid, direction, allow_gaps=False):
    """The plaintext one process sent ("DIRECTION_WRITE") or received, over all its sessions."""
    by_session = {}
    for d in tls_data(records, pid):
        if d["direction"] == direction:
            by_session.setdefault(d["session"], []).append(d)
    out = b""
    for session in sorted(by_session, key=int):
        expected = None
        for d in sorted(by_session[session], key=lambda d: int(d.get("streamOffset", "0"))):
            offset = int(d.get("streamOffset", "0"))
            if not allow_gaps:
                assert int(d.get("gapBeforeBytes", "0")) == 0, d
                assert expected is None or offset == expected, (offset, expected)
            data = base64.b64decode(d.get("data", ""))
            out += data
            expected = offset + len(data) + int(d.get("truncatedBytes", "0"))
    return out


def final_stats(records):
    stats = [r["stats"] for r in records if "stats" in r]
    assert stats and stats[-1].get("final"), "no final stats record"
    return stats[-1]


def counter(section, name):
    return int(section.get(name, "0"))


def assert_accounted(stats):
    """Every byte the probes saw was exported, dropped with a reason, or truncated."""
    k = stats.get("kernel", {})
    assert counter(k, "callBytes") + counter(k, "helloBytes") == (
        counter(k, "chunkBytes") + counter(k, "dropRingFullBytes")
                                       + counter(k, "dropReadFaultBytes")
                                       + counter(k, "truncatedBytes")), k
