# SPDX-License-Identifier: Apache-2.0
"""Processes as the kernel reports them: exec (executable, argv, parent, container from the
cgroup) and exit (status or signal); a process that exits right after its request is still
attributed, since nothing is read from /proc."""
import os
import signal
import subprocess
import time

import pytest

import harness
from test_http import nginx, transactions  # noqa: F401 (fixture)

CONTAINER = "c0ffee" * 10 + "c0de"  # 64 hex digits


# clock_nanosleep, the syscall sleep(1) waits in
NANOSLEEP = {"x86_64": 230, "aarch64": 115}[os.uname().machine]


def in_syscall(pid, number):
    with open(f"/proc/{pid}/syscall") as f:
        return f.read().split()[0] == str(number)


def processes(records, comm=None):
    return [r["process"] for r in records
            if "process" in r and (comm is None or r["process"].get("comm") == comm)]


@pytest.fixture
def docker_cgroup():
    """A cgroup named the way docker's systemd driver names a container's."""
    base = ("/sys/fs/cgroup/memory" if os.path.isdir("/sys/fs/cgroup/memory")
            else "/sys/fs/cgroup")
    path = f"{base}/docker-{CONTAINER}.scope"
    os.makedirs(path, exist_ok=True)
    yield path
    os.rmdir(path)


def test_short_lived_process_in_a_container(cleartap, nginx, docker_cgroup):
    port, _ = nginx
    cleartap.start_loader()
    cleartap.start_collector()
    argv = ["curl", "-sk", "--http1.1", f"https://127.0.0.1:{port}/hello.txt", "-o", os.devnull]
    shell = subprocess.Popen(["sh", "-c", f'echo $$ > {docker_cgroup}/cgroup.procs && exec "$@"',
                              "sh", *argv])
    assert shell.wait(timeout=30) == 0
    records = cleartap.stop_collector()
    curl = shell.pid  # exec keeps the pid
    execs = [p for p in processes(records) if p["pid"] == curl and not p.get("exited")]
    exits = [p for p in processes(records) if p["pid"] == curl and p.get("exited")]
    # sh's exec and curl's exec: the last names curl
    assert execs[-1]["exe"] == "/usr/bin/curl" and execs[-1]["argv"] == argv
    assert execs[-1]["containerId"] == CONTAINER and execs[-1]["ppid"] == os.getpid()
    assert "uid" not in execs[-1]  # root: the default value 0 is omitted
    [end] = exits
    assert "exitCode" not in end and "exitSignal" not in end  # exited with 0
    [t] = transactions(records, curl)
    assert t["process"]["exe"] == "/usr/bin/curl"
    assert t["process"]["containerId"] == CONTAINER
    assert t["status"] == 200


def test_exit_status_and_signal(cleartap):
    cleartap.start_loader()
    cleartap.start_collector("--all-processes")  # these two make no traffic
    failed = subprocess.Popen(["sh", "-c", "exit 3"])
    assert failed.wait() == 3
    killed = subprocess.Popen(["sleep", "30"])
    # Kill it only once it sleeps. /proc/PID/exe names sleep as soon as exec passes its point of
    # no return, before the exec event; a SIGKILL in that window makes the ELF loader's killable
    # mmap fail, and the process dies without ever having exec'd (no event, by the kernel's own
    # account). Waiting for the nanosleep syscall waits until the exec has completed.
    harness.wait_for(lambda: in_syscall(killed.pid, NANOSLEEP), what="sleep to be sleeping")
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    records = cleartap.stop_collector()
    [end3] = [p for p in processes(records) if p["pid"] == failed.pid and p.get("exited")]
    assert end3["exitCode"] == 3 and "exitSignal" not in end3
    [end9] = [p for p in processes(records) if p["pid"] == killed.pid and p.get("exited")]
    assert end9["exitSignal"] == 9 and end9["comm"] == "sleep"
    [start] = [p for p in processes(records) if p["pid"] == killed.pid and not p.get("exited")]
    assert start["exe"] == "/usr/bin/sleep" and start["argv"] == ["sleep", "30"]
    assert start["containerId"] == "host"
    assert int(harness.final_stats(records)["collector"]["processes"]) >= 2


def proc_start_unix_ns(pid):
    """When /proc says pid started (field 22 of stat: clock ticks since boot), as Unix time."""
    with open(f"/proc/{pid}/stat") as f:
        ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    since_boot = ticks * 10**9 // os.sysconf("SC_CLK_TCK")
    return since_boot + time.time_ns() - time.clock_gettime_ns(time.CLOCK_BOOTTIME)


def test_processes_that_predate_cleartap(cleartap, nginx, docker_cgroup):
    """The loader's /proc snapshot at start: a process record for a process already running (an
    unprivileged user's, in a container's cgroup), as /proc shows it; its exit is still seen;
    traffic of nginx's worker (forked before cleartap, never exec'd) names its executable."""
    port, _ = nginx
    nginx_pid = int((cleartap.dir / "nginx.pid").read_text())
    argv = ["sleep", "300"]
    older = subprocess.Popen(["sh", "-c", f'echo $$ > {docker_cgroup}/cgroup.procs && exec "$@"',
                              "sh", *harness.AS_NOBODY, *argv])
    harness.wait_for(lambda: in_syscall(older.pid, NANOSLEEP), what="sleep to be sleeping")
    started = proc_start_unix_ns(older.pid)
    cleartap.start_loader()
    assert "process snapshot: " in cleartap.loader_log()
    cleartap.start_collector("--all-processes")  # the sleeping one makes no traffic
    subprocess.run(["curl", "-sk", f"https://127.0.0.1:{port}/hello.txt", "-o", os.devnull],
                   check=True, timeout=30)
    # a sibling in the same cgroup, exec'd after: the kernel's own account of that cgroup
    subprocess.run(["sh", "-c", f'echo $$ > {docker_cgroup}/cgroup.procs && exec true'],
                             check=True, timeout=30)
    older.kill()
    older.wait()
    records = cleartap.stop_collector()
    [seen, end] = [p for p in processes(records) if p["pid"] == older.pid]
    [kernel] = [p for p in processes(records, "true")
                if p["containerId"] == CONTAINER and not p.get("exited")]
    assert seen.pop("cgroupId", None) == kernel.get("cgroupId")  # 1, the root, on hybrid hosts
    assert seen == {"timeUnixNano": seen["timeUnixNano"], "pid": older.pid, "ppid": os.getpid(),
                    "uid": harness.NOBODY, "comm": "sleep", "exe": "/usr/bin/sleep",
                    "argv": argv, "startUnixNano": seen["startUnixNano"],
                    "containerId": CONTAINER, "snapshot": True}
    # /proc's start time (boot-based, clock ticks) against the exporter's (monotonic + offset)
    assert abs(int(seen["startUnixNano"]) - started) < 20_000_000  # a tick is 10 ms
    assert end["exited"] and end["exitSignal"] == signal.SIGKILL
    served = [t for t in transactions(records) if t.get("serverSide")]
    assert [t["process"]["exe"] for t in served] == ["/usr/sbin/nginx"]
    worker = served[0]["process"]["pid"]
    [w] = [p for p in processes(records) if p["pid"] == worker]
    assert w["snapshot"] and w["ppid"] == nginx_pid and w["argv"][0].startswith("nginx: worker")


def test_kubernetes_names_from_kubelet_log_links(cleartap, nginx, docker_cgroup):
    """kubelet names each container's log link "<pod>_<namespace>_<container>-<id>.log": records
    of that container's processes carry the three names. The link appears after the container's
    first process started (as kubelet makes it after the runtime started the container): the
    collector lists the directory again and the later records have the names."""
    port, _ = nginx
    logs = cleartap.dir / "containers"
    logs.mkdir()
    logs.chmod(0o755)
    (logs / f"kube-proxy-x2k9q_kube-system_kube-proxy-{'ab' * 32}.log").symlink_to("/nowhere")
    (logs / "unrelated.log").symlink_to("/nowhere")
    cleartap.start_loader("--container-logs", str(logs))
    cleartap.start_collector("--all-processes")  # the shell makes no traffic
    argv = ["sh", "-c", f'sleep 1.5; curl -sk https://127.0.0.1:{port}/hello.txt -o {os.devnull}']
    shell = subprocess.Popen(["sh", "-c", f'echo $$ > {docker_cgroup}/cgroup.procs && exec "$@"',
                              "sh", *argv])
    time.sleep(0.5)  # the container's first exec is reported before its link exists
    (logs / f"shop-frontend-5d9f7-abcde_shop_frontend-{CONTAINER}.log").symlink_to("/nowhere")
    assert shell.wait(timeout=30) == 0
    records = cleartap.stop_collector()
    names = {"pod": "shop-frontend-5d9f7-abcde", "podNamespace": "shop", "container": "frontend"}
    [first] = [p for p in processes(records) if p["pid"] == shell.pid and p["comm"] == "sh"
               and p.get("argv") == argv and not p.get("exited")]
    assert first["containerId"] == CONTAINER and "kubernetes" not in first
    [t] = [t for t in transactions(records) if not t.get("serverSide")]
    assert t["process"]["containerId"] == CONTAINER and t["process"]["kubernetes"] == names
    [curl] = [p for p in processes(records, "curl") if not p.get("exited")]
    assert curl["kubernetes"] == names
    # nginx is on the host: no names
    [served] = [t for t in transactions(records) if t.get("serverSide")]
    assert served["process"]["containerId"] == "host" and "kubernetes" not in served["process"]


def test_only_processes_other_records_name_by_default(cleartap, nginx):
    """Without --all-processes a process record goes out for a process another record names,
    before that record, once for its image, and at its exit; a process that made no traffic
    has none (1 690 of 1 736 lines of a minute's output were process records before)."""
    port, _ = nginx
    cleartap.start_loader()
    cleartap.start_collector()
    quiet = subprocess.Popen(["sh", "-c", "exit 3"])
    assert quiet.wait() == 3
    curl = subprocess.Popen(["curl", "-sk", "--http1.1", f"https://127.0.0.1:{port}/hello.txt",
                             f"https://127.0.0.1:{port}/hello.txt?again", "-o", os.devnull,
                             "-o", os.devnull])
    assert curl.wait(timeout=30) == 0
    records = cleartap.stop_collector()
    assert not [p for p in processes(records) if p["pid"] == quiet.pid]
    mine = [(i, r["process"]) for i, r in enumerate(records)
            if "process" in r and r["process"]["pid"] == curl.pid]
    assert [p.get("exited", False) for _, p in mine] == [False, True]
    assert mine[0][1]["exe"] == "/usr/bin/curl"
    named = [i for i, r in enumerate(records)
             if r.get("http", r.get("tlsData", {})).get("process", {}).get("pid") == curl.pid]
    assert len([i for i in named if "http" in records[i]]) == 2
    assert mine[0][0] < min(named)  # said before the first record that names it
