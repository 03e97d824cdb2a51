# SPDX-License-Identifier: Apache-2.0
"""The attach-request protocol from the loader's side: what a compromised collector can ask, and
what the loader does about it. A stand-in collector speaks the protocol of
include/cleartap/handoff.h byte by byte; the loader's answers and the kernel's own view of the
loader's descriptors (/proc/PID/fdinfo) are checked, never the loader's log alone."""
import array
import os
import re
import shutil
import socket
import struct
import subprocess
import time

import harness

MAGIC = 0x50415443
# the protocol's version, from the header both ends are built with
VERSION = int(re.search(r"#define CLEARTAP_HANDOFF_VERSION\s+\\?\s*(\d+)",
                        (harness.ROOT / "include/cleartap/handoff.h").read_text()).group(1))
REQUEST_MAGIC, ANSWER_MAGIC = 0x51525443, 0x53415443
REQUEST = struct.Struct("<IIQQII256s")
ANSWER_HEAD = struct.Struct("<IIIIIIQQ256s128s")  # answer magic, pid, then the attachment
ANSWER_SIZE = 8 + 416 + 8 * 176
STATUS = {1: "attached", 2: "already attached", 3: "skipped", 4: "failed", 5: "refused"}
LIBSSL = "/usr/lib/x86_64-linux-gnu/libssl.so.3"


class StandInCollector:
    """Takes the lease like a collector, then sends requests and reads answers."""

    def __init__(self, cleartap):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(cleartap.socket)
        self.sock.sendall(struct.pack("<IHH", MAGIC, VERSION, 0))
        fds = array.array("i")
        msg, anc, _, _ = self.sock.recvmsg(1 << 20, socket.CMSG_SPACE(64 * 4))
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
        for fd in fds:
            os.close(fd)
        magic, _, nfds, status = struct.unpack_from("<IHHi", msg)
        assert (magic, status) == (MAGIC, 0)
        self.nfds = nfds

    def request(self, path, pid=None, dev=None, ino=None, mnt_ns=None, library=True,
                magic=REQUEST_MAGIC):
        st = os.stat(path) if os.path.exists(path) else None
        dev = st.st_dev if dev is None else dev
        ino = st.st_ino if ino is None else ino
        mnt_ns = os.stat("/proc/self/ns/mnt").st_ino if mnt_ns is None else mnt_ns
        self.sock.sendall(REQUEST.pack(magic, pid or os.getpid(), dev, ino, mnt_ns,
                                       1 if library else 0, path.encode()))

    def answer(self, timeout=30):
        self.sock.settimeout(timeout)
        data = b""
        while len(data) < ANSWER_SIZE:
            chunk = self.sock.recv(ANSWER_SIZE - len(data))
            if not chunk:
                raise EOFError("the loader closed the lease")
            data += chunk
        magic, pid, status, library, functions, n_sites, dev, ino, path, detail = \
            ANSWER_HEAD.unpack_from(data)
        assert magic == ANSWER_MAGIC
        return {"status": STATUS[status], "library": library, "functions": functions,
                "sites": n_sites, "pid": pid, "dev": dev, "ino": ino,
                "path": path.rstrip(b"\0").decode(), "detail": detail.rstrip(b"\0").decode()}

    def ask(self, path, **kw):
        self.request(path, **kw)
        return self.answer()


class Mapper:
    """A process that maps files executable (as ld.so maps a library): the pid a request may
    name for them."""

    def __init__(self, paths):
        script = ("import mmap, sys\nkeep = []\nfor p in sys.argv[1:]:\n"
                  "    with open(p, 'rb') as f:\n"
                  "        keep.append(mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ | "
                  "mmap.PROT_EXEC))\nprint('mapped', flush=True)\nsys.stdin.read()\n")
        self.p = subprocess.Popen(["/usr/bin/python3", "-c", script, *map(str, paths)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.p.stdout.readline() == "mapped\n"
        self.pid = self.p.pid

    def stop(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)


def link_count(pid):
    return len(harness.bpf_ids_of(pid, "link"))


def test_loader_attaches_what_it_plans_and_nothing_else(cleartap):
    lib = cleartap.dir / "lib"
    lib.mkdir()
    lib.chmod(0o755)
    copy = lib / "libssl.so.3"
    shutil.copy(LIBSSL, copy)
    truncated = lib / "libgnutls.so.30"
    truncated.write_bytes(open("/usr/lib/x86_64-linux-gnu/libgnutls.so.30", "rb").read(4096))
    fifo = lib / "libssl.so.99"
    os.mkfifo(fifo)
    cleartap.start_loader()
    loader = cleartap.loader.pid
    c = StandInCollector(cleartap)
    assert c.nfds >= 2 and len(harness.bpf_ids_of(loader, "link")) == 0  # start-up pinned them

    # libc holds no TLS functions: whatever the request says, nothing is attached to it
    libc = "/usr/lib/x86_64-linux-gnu/libc.so.6"
    a = c.ask(libc)
    assert (a["status"], a["detail"]) == ("skipped", "no OpenSSL or GnuTLS data functions found")
    assert link_count(loader) == 0
    # a FIFO named like a library: refused without blocking the loader
    a = c.ask(str(fifo))
    assert a["status"] == "refused"
    assert a["detail"] == "not the file the collector named (not a regular file, or replaced)"
    # the device and inode must be the file's: a request cannot name one file and mean another
    st = os.stat(libc)
    a = c.ask(str(copy), dev=st.st_dev, ino=st.st_ino)
    assert a["status"] == "refused" and link_count(loader) == 0
    # the copy, but this process does not map it: refused (the broker checked its maps)
    a = c.ask(str(copy))
    assert a["status"] == "refused" and link_count(loader) == 0
    assert a["detail"] == f"refused: pid {os.getpid()} does not map it executable"
    mapper = Mapper([truncated, copy])
    # a cut-off ELF image: planned in the sandbox, which fails cleanly; the loader serves on
    a = c.ask(str(truncated), pid=mapper.pid)
    assert a["status"] == "skipped" and a["functions"] == 0
    # relative library paths, unterminated paths and unknown flags are malformed
    mnt = os.stat("/proc/self/ns/mnt").st_ino
    c.sock.sendall(REQUEST.pack(REQUEST_MAGIC, 1, 0, 0, mnt, 1, b"relative/libssl.so.3"))
    assert c.answer()["status"] == "refused"
    # an executable run by a relative name: the broker opens the process's own (ours: python)
    c.sock.sendall(REQUEST.pack(REQUEST_MAGIC, os.getpid(), 0, 0, mnt, 0, b"./python3"))
    a = c.answer()
    assert (a["status"], a["detail"]) == ("skipped", "no OpenSSL or GnuTLS data functions found")
    c.sock.sendall(REQUEST.pack(REQUEST_MAGIC, 1, 0, 0, 0, 0, b"/x" * 128))
    assert c.answer()["detail"].startswith("malformed request")
    # and the real thing: the copy, attached at the sites the loader planned, three links
    # (entry, exit instructions, uretprobes) that the loader holds
    a = c.ask(str(copy), pid=mapper.pid)
    if harness.kernel_has_uprobe_multi():
        assert (a["status"], a["functions"], a["sites"]) == ("attached", 6, 6)
        assert a["detail"] == "attached by the loader at the collector's request"
        assert link_count(loader) == 3
    else:
        assert a["status"] == "skipped" and link_count(loader) == 0
    # asked again: known, never attached twice
    a = c.ask(str(copy), pid=mapper.pid)
    assert a["status"] in ("already attached", "skipped") and a["detail"] == "examined already"
    assert link_count(loader) == (3 if harness.kernel_has_uprobe_multi() else 0)
    mapper.stop()


def test_other_mount_namespace_without_broker(cleartap):
    cleartap.start_loader("--strict")
    c = StandInCollector(cleartap)
    a = c.ask(LIBSSL, dev=0, ino=0, mnt_ns=4026000001)
    assert a["status"] == "skipped"
    assert a["detail"] == ("opened in another mount namespace (mnt:[4026000001]): not "
                           "attachable without a broker (--strict)")


def test_broker_opens_only_what_the_process_maps(cleartap):
    """A compromised collector names files of another namespace: the broker opens nothing the
    named process does not map executable, and nothing of a process that is gone."""
    cleartap.start_loader()
    broker = int(cleartap.loader_log().split("broker pid ", 1)[1].split()[0])
    assert_broker_privileges(broker)
    c = StandInCollector(cleartap)
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        harness.wait_for(lambda: "/usr/bin/sleep" in open(f"/proc/{sleeper.pid}/maps").read())
        # /etc/shadow: readable by nobody but root, mapped by no one
        a = c.ask("/etc/shadow", pid=sleeper.pid, dev=0, ino=0, mnt_ns=4026000002)
        assert a["status"] == "skipped", a
        assert "the broker did not open it: cannot open it" in a["detail"], a
        # libssl: readable, but sleep does not map it
        a = c.ask(LIBSSL, pid=sleeper.pid, dev=0, ino=0, mnt_ns=4026000002)
        assert a["status"] == "skipped", a
        assert a["detail"].endswith(f"the broker did not open it: pid {sleeper.pid} does not "
                                    "map it executable"), a
        # sleep maps libc: opened by the broker, planned by the loader, no TLS in it
        a = c.ask("/usr/lib/x86_64-linux-gnu/libc.so.6", pid=sleeper.pid, dev=0, ino=0,
                  mnt_ns=4026000002)
        assert a["detail"] == "no OpenSSL or GnuTLS data functions found", a
    finally:
        sleeper.kill()
        sleeper.wait()
    a = c.ask("/usr/lib/x86_64-linux-gnu/libc.so.6", pid=sleeper.pid, dev=0, ino=0,
              mnt_ns=4026000002)
    assert f"cannot reach pid {sleeper.pid}'s root" in a["detail"], a
    assert link_count(cleartap.loader.pid) == 0


def assert_broker_privileges(pid):
    """Its own user, CAP_SYS_PTRACE alone in every set it has, no_new_privs, a filter."""
    f = harness.privileges_of(pid)
    broker_uid = subprocess.run(["id", "-u", "cleartap-broker"], capture_output=True,
                                text=True, check=True).stdout.strip()
    assert f["Uid"] == [broker_uid] * 4, f
    ptrace = 1 << 19  # CAP_SYS_PTRACE
    assert [int(f[k][0], 16) for k in ("CapPrm", "CapEff", "CapBnd")] == [ptrace] * 3, f
    assert [int(f[k][0], 16) for k in ("CapInh", "CapAmb")] == [0, 0], f
    assert f["NoNewPrivs"] == ["1"] and f["Seccomp"] == ["2"], f


def test_new_plans_are_rate_limited(cleartap):
    """40 at once, then 10 a second: a collector asking for thousands of files cannot keep the
    loader forking planners."""
    files = cleartap.dir / "many"
    files.mkdir()
    files.chmod(0o755)
    for i in range(100):
        (files / f"libssl.so.{i}").write_bytes(b"not an ELF file %d" % i)
    cleartap.start_loader()
    c = StandInCollector(cleartap)
    mapper = Mapper(sorted(files.iterdir()))
    started = time.monotonic()
    answers = []
    for i in range(100):
        answers.append(c.ask(str(files / f"libssl.so.{i}"), pid=mapper.pid))
    elapsed = time.monotonic() - started
    statuses = [a["status"] for a in answers]
    assert statuses[:40] == ["skipped"] * 40  # the burst
    assert all(a["detail"] == "not an ELF file" for a in answers if a["status"] == "skipped")
    refused = [a for a in answers if a["status"] == "refused"]
    assert all(a["detail"] == "rate limit: the loader plans at most 10 new files per second"
               for a in refused)
    # what was planned beyond the burst is what the rate allowed in the time it took
    assert 100 - 40 - int(elapsed * 10) - 1 <= len(refused) <= 60
    # a refused file is planned when asked again later
    time.sleep(0.3)
    assert c.ask(refused[0]["path"], pid=mapper.pid)["status"] == "skipped"
    mapper.stop()


def test_garbage_on_the_lease_ends_it(cleartap):
    cleartap.start_loader()
    c = StandInCollector(cleartap)
    c.request(LIBSSL, magic=0xDEADBEEF)
    c.sock.settimeout(10)
    assert c.sock.recv(1) == b""  # closed: the lease is over
    harness.wait_for(lambda: "broke the request protocol" in cleartap.loader_log())
    # the rings are free again for a real collector
    collector = cleartap.start_collector()
    assert collector.poll() is None
    cleartap.stop_collector()
    assert cleartap.loader.poll() is None


def test_planner_runs_sandboxed(cleartap):
    """The untrusted file is read only by a child that became the loader's user, has no
    capability and installed its own seccomp filter first (strace's view of the system calls)."""
    trace = cleartap.dir / "strace.txt"
    uid = int(subprocess.run(["id", "-u", "cleartap"], capture_output=True, text=True,
                             check=True).stdout)
    subprocess.run(["strace", "-f", "-qq", "-o", str(trace),
                    "-e", "trace=openat,read,pread64,close,setresuid,seccomp,clone,fork,vfork",
                    *cleartap.loader_cmd("--attach-only", "--attach", LIBSSL)],
                   capture_output=True, text=True, timeout=120, check=True)
    lines = trace.read_text().splitlines()
    loader = int(lines[0].split()[0])
    by_pid = {}
    for line in lines:
        pid, call = line.split(None, 1)
        by_pid.setdefault(int(pid), []).append(call)
    # the loader opens the file (relative to its directory) and never reads it (from its open
    # to its close); a child does
    calls = by_pid[loader]
    base = os.path.basename(LIBSSL)
    opened = next(i for i, c in enumerate(calls)
                  if c.startswith("openat(") and f', "{base}", ' in c)
    fd = int(calls[opened].rsplit("=", 1)[1])
    closed = next(i for i, c in enumerate(calls) if i > opened and c.startswith(f"close({fd})"))
    assert not [c for c in calls[opened:closed] if c.startswith((f"pread64({fd},",
                                                                   f"read({fd},"))]
    children = [pid for pid in by_pid if pid != loader
                and any(call.startswith("pread64(3,") for call in by_pid[pid])]
    assert children
    for pid in children:
        calls = by_pid[pid]
        first_read = next(i for i, c in enumerate(calls) if c.startswith("pread64("))
        before = calls[:first_read]
        assert any(c.startswith(f"setresuid({uid}, {uid}, {uid})") for c in before), before
        assert any(c.startswith("seccomp(SECCOMP_SET_MODE_FILTER") and c.endswith("= 0")
                   for c in before), before
        # no file is opened in the child at all
        assert not [c for c in calls if c.startswith("openat(")]


def test_broker_needs_sys_ptrace_and_nothing_else():
    """Measured, as the broker's user: another user's /proc/PID/maps and /proc/PID/root open
    with CAP_SYS_PTRACE, not with CAP_DAC_READ_SEARCH, not with nothing."""
    target = subprocess.Popen(["sleep", "60"])
    probe = f"""
import sys
for p in ("/proc/{target.pid}/maps", "/proc/{target.pid}/root{LIBSSL}"):
    try:
        open(p, "rb").read(1)
    except PermissionError:
        sys.exit(1)
"""
    try:
        harness.wait_for(lambda: "/usr/bin/sleep" in open(f"/proc/{target.pid}/maps").read())
        results = {}
        for cap in ("sys_ptrace", "dac_read_search", None):
            caps = [f"--inh-caps=+{cap}", f"--ambient-caps=+{cap}"] if cap else []
            results[cap] = subprocess.run(
                ["setpriv", "--reuid=cleartap-broker", "--regid=cleartap-broker",
                 "--clear-groups", *caps, "/usr/bin/python3", "-c", probe],
                timeout=30).returncode
    finally:
        target.kill()
        target.wait()
    assert results == {"sys_ptrace": 0, "dac_read_search": 1, None: 1}
