# SPDX-License-Identifier: Apache-2.0
"""Pins outlive processes: collector restarts, loader reruns, unload; and clear errors."""
import base64
import json
import os
import signal
import subprocess
import time

import harness
from harness import stream, tls_data
from test_capture import run_python_pair
from test_http import nginx  # noqa: F401 (fixture)


def test_collector_killed_mid_stream_and_replaced(cleartap, tls_cert):
    cleartap.start_loader()
    first = cleartap.start_collector()
    pins, links = cleartap.pins(), cleartap.link_count()
    maps_first = harness.bpf_ids_of(first.pid)
    assert len(maps_first) >= 3  # rings and counters

    cert, key = tls_cert
    port = harness.free_port()
    server = subprocess.Popen(["/usr/bin/python3",
                               str(harness.PEERS / "tls_server.py"), str(cert), str(key),
                               str(port), "10", "x"], stdout=subprocess.PIPE, text=True)
    assert server.stdout.readline().strip() == "ready"
    client = subprocess.Popen(["/usr/bin/python3", str(harness.PEERS / "tls_client.py"),
                               str(port), "10", "restart", "--trickle", "100"],
                              stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)  # mid-stream
    first.send_signal(signal.SIGKILL)
    first.wait()
    second = cleartap.start_collector()
    second_maps = harness.bpf_ids_of(second.pid)
    report = json.loads(client.stdout.read())
    assert client.wait(timeout=30) == 0
    server.wait(timeout=10)
    records = cleartap.stop_collector(second)

    assert second_maps == maps_first
    # Same kernel objects: nothing was loaded or attached again.
    assert cleartap.pins() == pins
    assert cleartap.link_count() == links
    # Capture resumed: the new collector got the rest of the stream, byte-exact at its offsets.
    writes = [d for d in tls_data(records, report["pid"]) if d["direction"] == "DIRECTION_WRITE"]
    assert writes, "no capture after the restart"
    sent = harness.base64.b64decode(report["sent"])
    for d in writes:
        off = int(d.get("streamOffset", "0"))
        data = harness.base64.b64decode(d["data"])
        assert sent[off:off + len(data)] == data
    assert b"restart" in b"".join(harness.base64.b64decode(d["data"]) for d in writes)


def test_collector_receives_same_objects(cleartap):
    cleartap.start_loader()
    a = cleartap.start_collector()
    ids_a = harness.bpf_ids_of(a.pid)
    cleartap.stop_collector(a)
    b = cleartap.start_collector()
    assert harness.bpf_ids_of(b.pid) == ids_a
    cleartap.stop_collector(b)


def held_uprobes(pid):
    """The perf events (uprobes) process pid holds open."""
    fds = f"/proc/{pid}/fd"
    return sum(1 for fd in os.listdir(fds) if os.readlink(f"{fds}/{fd}") == "anon_inode:[perf_event]")


def loader_holds_its_uprobes(cleartap):
    """Before 5.15 no uprobe can be pinned: the loader holds one perf event per probe site
    while it runs (Debian 12's libssl: 6 entries, 2 exit instructions, 2 uretprobes; libgnutls:
    3 entries, 2 uretprobes), pins only programs and maps, and each start attaches anew."""
    for run in range(2):
        before = len(cleartap.loader_log())
        cleartap.start_loader()
        log = cleartap.loader_log()[before:]
        assert "2 TLS library files probed (2 newly attached)" in log, log
        assert held_uprobes(cleartap.loader.pid) == 15
        pins = cleartap.pins()
        assert "progs/ct_tls_enter" in pins and "links/ct_sys_enter" in pins
        assert not [p for p in pins if p.startswith("links/tls_")], pins
        assert ("reusing pinned programs" in log) == (run == 1), log
        cleartap.loader.terminate()
        cleartap.loader.wait(timeout=10)
    cleartap.run_loader("--unload")
    assert not os.path.exists(cleartap.pin_dir)


def test_loader_twice_then_unload(cleartap):
    if not (harness.kernel_has("uprobe_multi") or harness.kernel_has("perf_link")):
        return loader_holds_its_uprobes(cleartap)
    first = cleartap.run_loader("--attach-only")
    assert "loaded and pinned" in first.stderr
    pins, links = cleartap.pins(), cleartap.link_count()
    assert "progs/ct_tls_enter" in pins and "links/ct_sys_enter" in pins
    tls_links = [p for p in pins if p.startswith("links/tls_")]

    def pins_of(path):
        st = os.stat(path)
        name = f"links/tls_{os.major(st.st_dev)}_{os.minor(st.st_dev)}_{st.st_ino}_"
        return sorted(p[len(name):] for p in tls_links if p.startswith(name))
    # per library file: the entry link, and the exit-instruction and uretprobe links its plan
    # needs (Debian's libssl: all three; libgnutls: no exit instruction). Before 6.6 there are no
    # uprobe_multi links: one perf-event link per site (Debian 12's libssl: 6 functions, two
    # with an exit instruction, two with a uretprobe; libgnutls: 3 functions, 2 uretprobes).
    if harness.kernel_has_uprobe_multi():
        assert pins_of("/usr/lib/x86_64-linux-gnu/libssl.so.3") == ["enter", "exit", "return"]
        assert pins_of("/usr/lib/x86_64-linux-gnu/libgnutls.so.30") == ["enter", "return"]
    else:
        assert pins_of("/usr/lib/x86_64-linux-gnu/libssl.so.3") == sorted(
            [f"enter_{i}" for i in range(6)] + ["exit_0", "exit_1", "return_0", "return_1"])
        assert pins_of("/usr/lib/x86_64-linux-gnu/libgnutls.so.30") == sorted(
            [f"enter_{i}" for i in range(3)] + ["return_0", "return_1"])
    assert links == 1 + len(tls_links)

    second = cleartap.run_loader("--attach-only")
    assert "reusing pinned programs" in second.stderr
    assert "already attached to" in second.stderr and "newly attached" in second.stderr
    assert "(0 newly attached)" in second.stderr
    assert cleartap.pins() == pins
    assert cleartap.link_count() == links

    prog_ids = cleartap.prog_ids()
    cleartap.run_loader("--unload")
    assert not os.path.exists(cleartap.pin_dir)

    def programs_gone():
        out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
        return not prog_ids & {p["id"] for p in json.loads(out.stdout)}

    # The kernel frees an unpinned program from a work queue, shortly after the last reference.
    harness.wait_for(programs_gone, timeout=10, what="unpinned programs to be freed")


def test_second_serving_loader_refuses_socket_in_use(cleartap):
    cleartap.start_loader()
    p = cleartap.run_loader(check=False)
    assert p.returncode == 1
    assert f"socket {cleartap.socket} is in use" in p.stderr


def test_loader_errors_are_clear(cleartap):
    p = subprocess.run([*harness.AS_NOBODY, *cleartap.loader_cmd("--attach-only")],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "not privileged" in p.stderr
    p = cleartap.run_loader("--ring-size", "100000", check=False)
    assert p.returncode == 1 and "must be a power of two" in p.stderr
    p = cleartap.run_loader("--ring-shards", "0", check=False)
    assert p.returncode == 1 and "invalid --ring-shards '0'" in p.stderr
    p = cleartap.run_loader("--no-such-flag", check=False)
    assert p.returncode == 1
    p = subprocess.run([str(harness.LOADER), "--pin-dir", "/tmp/x"], capture_output=True,
                       text=True)
    assert p.returncode == 1 and "must be a directory below /sys/fs/bpf" in p.stderr
    # A file without OpenSSL is skipped, reported, and not fatal.
    p = cleartap.run_loader("--attach-only", "--attach", "/bin/true")
    assert "skipped /bin/true: no OpenSSL or GnuTLS data functions found" in p.stderr


def test_collector_errors_are_clear(cleartap):
    cleartap.start_loader(allow_nobody=False)
    p = subprocess.run([*harness.AS_NOBODY, str(harness.COLLECTOR), "--socket", cleartap.socket,
                        "--wait", "0"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "refused this user" in p.stderr
    assert "refused peer" in cleartap.loader_log()
    p = subprocess.run([str(harness.COLLECTOR), "--format", "xml"], capture_output=True,
                       text=True)
    assert p.returncode == 1 and "invalid --format" in p.stderr
    p = subprocess.run([*harness.AS_NOBODY, str(harness.COLLECTOR), "--socket",
                        str(cleartap.dir / "absent.sock"), "--wait", "0"],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "No such file or directory" in p.stderr
    p = subprocess.run([str(harness.COLLECTOR), "--socket", cleartap.socket, "--wait", "0"],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "refusing to run as root" in p.stderr


def test_one_reader_per_ring_set(cleartap, tls_cert):
    """Two collectors on one loader would split the records, each silently incomplete: while one
    holds its connection, the loader refuses the next, which says why; when the first exits,
    a new one is served."""
    cleartap.start_loader()
    first = cleartap.start_collector()
    second = subprocess.run([*harness.AS_NOBODY, str(harness.COLLECTOR), "--socket",
                             cleartap.socket, "--wait", "1"], capture_output=True, text=True,
                            timeout=30)
    assert second.returncode == 1
    assert second.stderr.strip().endswith(
        "another collector reads the rings (one reader per ring set; the loader's log names it)")
    assert (f"collector pid {first.pid} uid {harness.NOBODY} reads the rings (one reader per "
            "ring set)") in cleartap.loader_log()
    pairs = [run_python_pair(cleartap, tls_cert, 3000 + i, 2000 + i, f"one-reader-{i}")
             for i in range(5)]
    records = cleartap.stop_collector(first)
    for client, server in pairs:  # every byte of every exchange reached the one reader
        assert stream(records, client["pid"], "DIRECTION_WRITE") == base64.b64decode(client["sent"])
        assert stream(records, server["pid"], "DIRECTION_WRITE") == base64.b64decode(server["sent"])
    harness.wait_for(lambda: "disconnected: the rings are free" in cleartap.loader_log(),
                     what="the loader to see the reader go")
    third = cleartap.start_collector()
    run_python_pair(cleartap, tls_cert, 100, 100, "one-reader-after")
    assert tls_data(cleartap.stop_collector(third))


def test_collector_keeps_one_lease_across_a_loader_restart(cleartap, tls_cert, nginx):
    """The loader restarts (its pins stay): the running collector asks the new one for a lease
    on the rings it reads, gets it, and from then on a second collector is refused again and a
    library that appears later is probed at its request. Capture never stopped."""
    import shutil
    port, _ = nginx
    cleartap.start_loader()
    first = cleartap.start_collector()
    before, _ = run_python_pair(cleartap, tls_cert, 1000, 1000, "before-restart")
    cleartap.loader.terminate()
    assert cleartap.loader.wait(timeout=20) == 0
    harness.wait_for(lambda: "closed the handoff connection" in first.err_path.read_text(),
                     what="the collector to see the loader go")
    during, _ = run_python_pair(cleartap, tls_cert, 1000, 1000, "during-restart")
    # a libssl copy mapped while no loader runs: the restarted one attaches it at its start,
    # and the running collector reports that
    gone_lib = cleartap.dir / "lib-while-gone"
    gone_lib.mkdir()
    shutil.copy("/usr/lib/x86_64-linux-gnu/libssl.so.3", gone_lib / "libssl.so.3")
    gone_lib.chmod(0o755)
    holder = subprocess.Popen([*harness.AS_NOBODY, "env", f"LD_LIBRARY_PATH={gone_lib}",
                               "/usr/bin/python3", "-c",
                               "import ssl, sys; print('up', flush=True); sys.stdin.read()"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "up\n"
    cleartap.start_loader()
    harness.wait_for(lambda: "a new lease from the restarted loader" in
                     first.err_path.read_text(), what="the new lease", timeout=10)
    holder.stdin.close()
    holder.wait(timeout=10)
    second = subprocess.run([*harness.AS_NOBODY, str(harness.COLLECTOR), "--socket",
                             cleartap.socket, "--wait", "1"], capture_output=True, text=True,
                            timeout=30)
    assert second.returncode == 1 and "another collector reads the rings" in second.stderr
    # its connection was made by its opener child (the collector connects nothing itself)
    opener = harness.opener_of(first.pid)
    assert f"collector pid {opener} uid {harness.NOBODY} reads the rings" in \
        cleartap.loader_log()
    lib = cleartap.dir / "lib"
    lib.mkdir()
    shutil.copy("/usr/lib/x86_64-linux-gnu/libssl.so.3", lib / "libssl.so.3")
    lib.chmod(0o755)
    late = subprocess.run([*harness.AS_NOBODY, "env", f"LD_LIBRARY_PATH={lib}", "/usr/bin/python3",
                           "-c", f"""
import http.client, ssl, time
time.sleep(1)
c = http.client.HTTPSConnection("127.0.0.1", {port}, context=ssl._create_unverified_context())
c.request("GET", "/hello.txt?after-restart")
print(c.getresponse().read().decode(), end="")
"""], capture_output=True, text=True, timeout=30)
    assert late.stdout == "hello from nginx\n", late.stderr
    records = cleartap.stop_collector(first)
    for peer in (before, during):  # the rings were read all along
        assert stream(records, peer["pid"], "DIRECTION_WRITE") == base64.b64decode(peer["sent"])
    from test_attachments import attachments
    copy = attachments(records)[str(lib / "libssl.so.3")]
    assert (copy["status"], copy["detail"]) == (
        "STATUS_ATTACHED", "attached by the loader at the collector's request"), copy
    # the one that appeared while the loader was gone: asked for in vain then, attached by the
    # restarted loader (through the holder's root: /proc/PID/root/...), and said so on the
    # stream (the last record for it)
    gone = [r["attachment"] for r in records
            if r.get("attachment", {}).get("path", "").endswith(f"{gone_lib}/libssl.so.3")]
    assert gone and (gone[-1]["status"], gone[-1].get("library")) == ("STATUS_ATTACHED",
                                                                  "openssl"), gone
    assert [t["path"] for t in records_http(records) if t["path"].endswith("after-restart")]


def records_http(records):
    return [r["http"] for r in records if "http" in r]


def test_collector_stops_when_the_restarted_loader_has_other_rings(cleartap):
    """Unloaded and loaded anew, the loader has rings the running collector does not read: it
    says so and stops (its supervisor starts one that reads the new rings)."""
    cleartap.start_loader()
    first = cleartap.start_collector()
    cleartap.loader.terminate()
    cleartap.loader.wait(timeout=20)
    cleartap.run_loader("--unload")
    cleartap.start_loader()
    assert first.wait(timeout=10) == 1
    assert ("the restarted loader has rings of its own (it was unloaded): restart the collector "
            "to read them: this collector stops") in first.err_path.read_text()
