# SPDX-License-Identifier: Apache-2.0
"""Programs that start after cleartap with TLS the loader never saw are probed: the collector
names the file, the loader (unprivileged by then) checks it, plans it in a sandboxed child and
attaches its own programs. A libssl copy loaded through LD_LIBRARY_PATH by an unprivileged user,
and Node.js with OpenSSL built in."""
import glob
import json
import os
import re
import shutil
import subprocess
import time

import harness
from test_attachments import attachments
from test_http import nginx, transactions  # noqa: F401 (fixture)
from test_processes import CONTAINER, docker_cgroup  # noqa: F401 (fixture)


def libssl_copy_with_cleartap(cleartap, name="libssl.so.3"):
    """A directory of the unprivileged user's own libssl copy (an inode the loader never saw),
    and cleartap started."""
    lib = cleartap.dir / "lib"
    lib.mkdir()
    shutil.copy("/usr/lib/x86_64-linux-gnu/libssl.so.3", lib / name)
    lib.chmod(0o755)
    cleartap.start_loader()
    cleartap.start_collector()
    return lib


def test_libssl_copy_loaded_later_by_an_unprivileged_user(cleartap, nginx):
    port, _ = nginx
    lib = libssl_copy_with_cleartap(cleartap)
    script = f"""
import http.client, ssl, time
time.sleep(1)  # the collector probes the copy when it is opened, at import
c = http.client.HTTPSConnection("127.0.0.1", {port}, context=ssl._create_unverified_context())
c.request("GET", "/hello.txt?late")
assert c.getresponse().read() == b"hello from nginx\\n"
"""
    p = subprocess.Popen([*harness.AS_NOBODY, "env", f"LD_LIBRARY_PATH={lib}",
                          "/usr/bin/python3", "-c", script])
    assert p.wait(timeout=30) == 0
    records = cleartap.stop_collector()
    copy = attachments(records)[str(lib / "libssl.so.3")]
    if not harness.kernel_has_uprobe_multi():
        # before 6.6 attaching needs perf_event_open(), a privilege: said, not silently missed
        assert (copy["status"], copy["library"], copy["functions"]) == ("STATUS_SKIPPED",
                                                                          "openssl", 6)
        assert copy["detail"] == ("appeared after start-up: attaching it needs uprobe_multi "
                                  "links (Linux 6.6); a loader restart probes it")
        assert transactions(records, p.pid) == []
        return
    assert (copy["status"], copy["library"], copy["functions"]) == ("STATUS_ATTACHED",
                                                                      "openssl", 6)
    assert copy["detail"] == "attached by the loader at the collector's request"
    [t] = transactions(records, p.pid)
    assert (t["path"], t["status"], t["process"]["uid"]) == ("/hello.txt?late", 200,
                                                            harness.NOBODY)


def closes_to(records, port):
    """Close records of client connections to port, by local port."""
    return {r["connection"]["local"]["port"]: r["connection"] for r in records
            if "connection" in r and r["connection"].get("closed")
            and r["connection"].get("role") == "ROLE_CLIENT"
            and r["connection"].get("remote", {}).get("port") == port}


def test_client_racing_the_attach_is_captured_or_reported_missed(cleartap, nginx):
    """A client on a fresh libssl copy talks at once, one connection per request, before and
    while its copy is being probed. Each request (the client's own list, with its local port)
    is either captured or its connection's close says why it was not; once probed, every later
    one is captured. Never silently absent."""
    port, _ = nginx
    lib = libssl_copy_with_cleartap(cleartap)
    script = f"""
import http.client, ssl, time
ctx = ssl._create_unverified_context()
end = time.monotonic() + 1.5
k = 0
while time.monotonic() < end:
    c = http.client.HTTPSConnection("127.0.0.1", {port}, context=ctx)
    c.connect()
    print(k, c.sock.getsockname()[1], flush=True)
    c.request("GET", f"/hello.txt?race{{k}}")
    assert c.getresponse().read() == b"hello from nginx\\n"
    c.close()
    k += 1
"""
    out = subprocess.run([*harness.AS_NOBODY, "env", f"LD_LIBRARY_PATH={lib}",
                          "/usr/bin/python3", "-c", script], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    sent = [tuple(map(int, line.split())) for line in out.split("\n") if line]
    records = cleartap.stop_collector()
    captured = {t.get("path") for t in transactions(records) if not t.get("serverSide")}
    half = {t["local"]["port"] for t in transactions(records) if not t.get("serverSide")
            and t.get("error") == "no request captured for this response"}
    closes = closes_to(records, port)
    fates = []
    for k, local_port in sent:
        close = closes[local_port]  # every connection's close is reported
        if not harness.kernel_has_uprobe_multi():  # the copy is never probed: each says so
            assert close["plaintextMissed"] == ("plaintext not captured: no probe on this "
                                                "process's TLS library")
            fates.append("missed")
        elif f"/hello.txt?race{k}" in captured:
            assert "plaintextMissed" not in close
            fates.append("captured")
        elif local_port in half:  # the request went out before the probe, its response not
            assert "plaintextMissed" not in close
            fates.append("response only")
        else:
            assert close["plaintextMissed"] == ("plaintext not captured: library probed "
                                                "after the connection started")
            fates.append("missed")
    # probed once: everything after is captured
    order = {"missed": 0, "response only": 1, "captured": 2}
    assert fates == sorted(fates, key=order.get) and fates.count("response only") <= 1
    assert ("captured" in fates) == harness.kernel_has_uprobe_multi()
    missed = [c for c in closes_to(records, port).values() if "plaintextMissed" in c]
    assert harness.counter(harness.final_stats(records)["collector"],
                           "plaintextMissed") == fates.count("missed") == len(missed)


def test_connection_older_than_its_probe_says_so(cleartap, nginx):
    """Deterministic half of the race: the copy is preloaded under a name the library-open probe
    does not know, an exchange made on it, and only then opened as libssl.so.3 (which gets it
    probed). The first connection, open since before, is reported missed with that reason; a
    connection made after the probe is captured."""
    port, _ = nginx
    lib = libssl_copy_with_cleartap(cleartap, "preloaded-ssl")
    (lib / "libssl.so.3").symlink_to("preloaded-ssl")
    script = f"""
import http.client, os, ssl, time
ctx = ssl._create_unverified_context()
def get(c, query):
    c.request("GET", "/hello.txt?" + query)
    assert c.getresponse().read() == b"hello from nginx\\n"
before = http.client.HTTPSConnection("127.0.0.1", {port}, context=ctx)
get(before, "before")
os.close(os.open("{lib}/libssl.so.3", os.O_RDONLY))  # now the collector asks for it
time.sleep(1)
after = http.client.HTTPSConnection("127.0.0.1", {port}, context=ctx)
get(after, "after")
print(before.sock.getsockname()[1], after.sock.getsockname()[1], flush=True)
before.close()
after.close()
"""
    out = subprocess.run([*harness.AS_NOBODY, "env", f"LD_PRELOAD={lib}/preloaded-ssl",
                          "/usr/bin/python3", "-c", script], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    before, after = map(int, out.split())
    records = cleartap.stop_collector()
    copy = attachments(records)[str(lib / "libssl.so.3")]
    closes = closes_to(records, port)
    captured = [t["path"] for t in transactions(records) if not t.get("serverSide")]
    if not harness.kernel_has_uprobe_multi():
        assert copy["status"] == "STATUS_SKIPPED" and captured == []
        reason = "plaintext not captured: no probe on this process's TLS library"
        assert closes[before]["plaintextMissed"] == closes[after]["plaintextMissed"] == reason
        return
    assert copy["status"] == "STATUS_ATTACHED"
    assert captured == ["/hello.txt?after"]
    assert closes[before]["plaintextMissed"] == ("plaintext not captured: library probed after "
                                                 "the connection started")
    assert "plaintextMissed" not in closes[after]
    stats = harness.final_stats(records)["collector"]
    assert harness.counter(stats, "plaintextMissed") == 1


def node_get_later(port, query):
    """Node.js code that GETs /hello.txt?query from nginx a second after it started."""
    return f"""
setTimeout(() => require("https").get(
  {{host: "127.0.0.1", port: {port}, path: "/hello.txt?{query}", rejectUnauthorized: false}},
  (res) => {{ res.resume(); res.on("end", () => process.exit(res.statusCode === 200 ? 0 : 1)); }}),
  1000);
"""


def test_node_with_builtin_openssl_started_later(cleartap, nginx):
    port, _ = nginx
    cleartap.start_loader()
    cleartap.start_collector()
    script = node_get_later(port, "node")
    p = subprocess.Popen(["node", "-e", script])
    assert p.wait(timeout=30) == 0
    records = cleartap.stop_collector()
    node = attachments(records)[shutil.which("node")]
    assert (node["status"], node["library"]) == ("STATUS_ATTACHED", "openssl")
    [t] = transactions(records, p.pid)
    assert (t["method"], t["path"], t["status"]) == ("GET", "/hello.txt?node", 200)
    assert t["process"]["comm"] == "node"
    # Node's plaintext is not tied to its socket (memory BIOs): never judged missed
    [close] = closes_to(records, port).values()
    assert "plaintextMissed" not in close


def run_in_container(cleartap, port, query):
    """A "container": own mount and pid namespace, its own copy of libssl at the system path
    (another inode than the host's), a root-owned client. Returns the copy's path and inode."""
    copy = cleartap.dir / "container-libssl.so.3"
    shutil.copy("/usr/lib/x86_64-linux-gnu/libssl.so.3", copy)
    script = f"""
import http.client, ssl, time
time.sleep(0.5)  # the library is probed when it is opened, at import
c = http.client.HTTPSConnection("127.0.0.1", {port}, context=ssl._create_unverified_context())
c.request("GET", "/hello.txt?{query}")
assert c.getresponse().read() == b"hello from nginx\\n"
"""
    p = subprocess.run(["unshare", "--mount", "--pid", "--fork", "sh", "-c",
                        f"mount --bind {copy} /usr/lib/x86_64-linux-gnu/libssl.so.3 && "
                        f'exec /usr/bin/python3 -c "$0"', script], timeout=60)
    assert p.returncode == 0
    return copy.stat().st_ino


def client_and_server_side(records, query):
    client = [t for t in transactions(records)
              if t.get("path") == f"/hello.txt?{query}" and not t.get("serverSide")]
    served = [t for t in transactions(records)
              if t.get("path") == f"/hello.txt?{query}" and t.get("serverSide")]
    return client, served


def test_container_library_probed_through_the_broker(cleartap, nginx):
    """The broker opens the container's own libssl (it checks the process maps that very
    file), the loader plans and attaches it: the client's side is captured too."""
    port, _ = nginx
    cleartap.start_loader()
    assert "broker pid" in cleartap.loader_log()
    cleartap.start_collector()
    inode = run_in_container(cleartap, port, "broker")
    records = cleartap.stop_collector()
    # the container's copy (its inode), named as the container names it
    [lib] = [a for a in records if "attachment" in a
             and int(a["attachment"].get("inode", 0)) == inode]
    lib = lib["attachment"]
    assert lib["path"].endswith("/x86_64-linux-gnu/libssl.so.3")
    if not harness.kernel_has_uprobe_multi():
        assert lib["status"] == "STATUS_SKIPPED"
        return
    assert (lib["status"], lib["library"], lib["functions"]) == ("STATUS_ATTACHED", "openssl",
                                                                 6)
    assert lib["detail"].startswith("attached by the loader at the collector's request, opened "
                                    "by the broker in mnt:[")
    client, served = client_and_server_side(records, "broker")
    # the process it was asked for, as the kernel attributed the capture
    assert len(client) == 1 and lib["pid"] == client[0]["process"]["pid"]
    assert lib["containerId"] == "host"  # same cgroup: a namespace, not a runtime's container
    assert len(served) == 1
    assert client[0]["status"] == 200
    assert client[0]["process"]["comm"] == "python3"
    # the two sides are the two ends of one connection
    assert client[0]["local"]["port"] == served[0]["remote"]["port"]


def test_container_without_broker_is_reported(cleartap, nginx):
    """--strict: no broker. The loader cannot reach that namespace's files: it says so once,
    with the reason, and the connection is still recorded."""
    port, _ = nginx
    cleartap.start_loader("--strict")
    assert "broker pid" not in cleartap.loader_log()
    cleartap.start_collector()
    run_in_container(cleartap, port, "ns")
    records = cleartap.stop_collector()
    foreign = [a for a in attachments(records).values()
               if a.get("detail", "").startswith("opened in another mount namespace")]
    assert len(foreign) == 1
    assert foreign[0]["path"].endswith("/x86_64-linux-gnu/libssl.so.3")  # /lib is /usr/lib
    assert foreign[0]["status"] == "STATUS_SKIPPED"
    assert foreign[0]["detail"].endswith("not attachable without a broker (--strict)")
    client, served = client_and_server_side(records, "ns")
    # not captured on the client's side, but nginx's side of the exchange is
    assert client == [] and len(served) == 1
    close = closes_to(records, port)[served[0]["remote"]["port"]]
    assert close["plaintextMissed"] == ("plaintext not captured: no probe on this process's "
                                        "TLS library")
    opens = [r["connection"] for r in records if "connection" in r
             and r["connection"].get("role") == "ROLE_CLIENT"
             and r["connection"].get("remote", {}).get("port") == port
             and harness.is_open(r["connection"])]
    assert [c["local"]["port"] for c in opens] == [served[0]["remote"]["port"]]


def test_container_executable_with_builtin_tls(cleartap, nginx):
    """An executable exec'd in another mount namespace, its own file there (node with OpenSSL
    built in): the exec record names its namespace, the broker opens the container's file."""
    port, _ = nginx
    copy = cleartap.dir / "container-node"
    shutil.copy(shutil.which("node"), copy)
    cleartap.start_loader()
    cleartap.start_collector()
    script = node_get_later(port, "nodens")
    node = shutil.which("node")
    p = subprocess.run(["unshare", "--mount", "--pid", "--fork", "sh", "-c",
                        f'mount --bind {copy} {node} && exec {node} -e "$0"', script],
                       timeout=60)
    assert p.returncode == 0
    records = cleartap.stop_collector()
    [att] = [r["attachment"] for r in records if "attachment" in r
             and int(r["attachment"].get("inode", 0)) == copy.stat().st_ino]
    assert att["path"] == node
    if not harness.kernel_has_uprobe_multi():
        assert att["status"] == "STATUS_SKIPPED"
        return
    assert (att["status"], att["library"]) == ("STATUS_ATTACHED", "openssl")
    assert "opened by the broker in mnt:[" in att["detail"]
    [t] = [t for t in transactions(records)
           if t.get("path") == "/hello.txt?nodens" and not t.get("serverSide")]
    assert (t["status"], t["process"]["comm"], t["process"]["pid"]) == (200, "node", att["pid"])


def root_tree(at):
    """A container's root: curl, every library ldd names (its own copies: other inodes than
    the host's, libssl among them) and the dynamic loader, at their paths, /usr merged."""
    for d in ("usr/bin", "usr/lib64", "usr/lib/x86_64-linux-gnu", "dev", "proc", "tmp"):
        (at / d).mkdir(parents=True, exist_ok=True)
    for link in ("bin", "lib", "lib64"):
        (at / link).symlink_to(f"usr/{link}")
    shutil.copy("/usr/bin/curl", at / "usr/bin/curl")
    ldd = subprocess.run(["ldd", "/usr/bin/curl"], capture_output=True, text=True,
                         check=True).stdout
    for path in re.findall(r"(/\S+) \(0x", ldd):
        real = "/usr" + path if not path.startswith("/usr/") else path
        shutil.copy(path, at / real.lstrip("/"))
    return at


def curl_twice(port, query):
    """Two requests a second apart, on two connections: the second after any probe."""
    url = f"https://127.0.0.1:{port}/hello.txt?{query}"
    return ["/usr/bin/curl", "-sk", "--http1.1", "-H", "Connection: close", "--rate", "1/s",
            f"{url}-1", f"{url}-2"]


def host_pid_of_curl(p, cgroup):
    """The host's pid of the curl running in cgroup (read from it while curl runs)."""
    pid = None
    while pid is None and p.poll() is None:
        try:
            with open(f"{cgroup}/cgroup.procs") as f:
                for candidate in f.read().split():
                    with open(f"/proc/{candidate}/comm") as c:
                        if c.read().strip() == "curl":
                            pid = int(candidate)
        except OSError:
            pass  # not created yet, or a process gone
        time.sleep(0.01)
    assert p.wait(timeout=30) == 0 and pid
    assert p.stdout.read() == b"hello from nginx\n" * 2
    return pid


def run_in_own_root(cleartap, docker_cgroup, port, query):
    """curl in its own mount and pid namespace, chroot'ed into its own tree, in a container's
    cgroup. Returns the pid the host sees and the root's libssl inode."""
    tree = root_tree(cleartap.dir / "rootfs")
    p = subprocess.Popen(
        ["sh", "-c", f'echo $$ > {docker_cgroup}/cgroup.procs && exec "$@"', "sh",
         "unshare", "--mount", "--pid", "--fork", "chroot", str(tree), *curl_twice(port, query)],
        stdout=subprocess.PIPE)
    pid = host_pid_of_curl(p, docker_cgroup)
    return pid, (tree / "usr/lib/x86_64-linux-gnu/libssl.so.3").stat().st_ino


def assert_first_request_accounted(mine, closes, query):
    """The first request raced the probe: captured; or only its response was (the request went
    out before the probe), said on the transaction; or nothing was, said on its connection."""
    if f"/hello.txt?{query}-1" in mine:
        return
    if None in mine:
        assert mine[None]["error"] == "no request captured for this response"
        assert mine[None]["status"] == 200
        return
    assert [c.get("plaintextMissed") for c in closes].count(
        "plaintext not captured: library probed after the connection started") == 1


def test_container_with_its_own_root_through_the_broker(cleartap, nginx, docker_cgroup):
    """A container as runtimes make them: own mount and pid namespace, own root tree with its
    own libssl, a container cgroup. The broker opens its libssl through /proc/PID/root; the
    second request (after the probe) is captured with the host pid and the container id; the
    first is captured too or its connection says why not."""
    port, _ = nginx
    cleartap.start_loader()
    cleartap.start_collector()
    pid, inode = run_in_own_root(cleartap, docker_cgroup, port, "root")
    records = cleartap.stop_collector()
    [lib] = [r["attachment"] for r in records if "attachment" in r
             and int(r["attachment"].get("inode", 0)) == inode]
    assert lib["pid"] == pid and lib["containerId"] == CONTAINER
    assert lib["path"].endswith("/x86_64-linux-gnu/libssl.so.3")
    mine = {t.get("path"): t for t in transactions(records, pid)}
    closes = list(closes_to(records, port).values())
    if not harness.kernel_has_uprobe_multi():
        assert lib["status"] == "STATUS_SKIPPED" and mine == {}
        return
    assert (lib["status"], lib["library"]) == ("STATUS_ATTACHED", "openssl")
    assert "opened by the broker in mnt:[" in lib["detail"]
    second = mine["/hello.txt?root-2"]
    assert (second["status"], second["process"]["containerId"]) == (200, CONTAINER)
    assert second["process"]["exe"] == "/usr/bin/curl"
    assert len(closes) == 2
    assert_first_request_accounted(mine, closes, "root")


def test_container_with_its_own_root_under_strict(cleartap, nginx, docker_cgroup):
    """--strict: no broker; the container's libssl is reported not covered, and each of its
    connections says its plaintext was not captured."""
    port, _ = nginx
    cleartap.start_loader("--strict")
    cleartap.start_collector()
    pid, inode = run_in_own_root(cleartap, docker_cgroup, port, "strict")
    records = cleartap.stop_collector()
    [lib] = [r["attachment"] for r in records if "attachment" in r
             and r["attachment"].get("pid") == pid
             and r["attachment"]["path"].endswith("libssl.so.3")]
    assert lib["status"] == "STATUS_SKIPPED" and lib["containerId"] == CONTAINER
    assert lib["detail"].endswith("not attachable without a broker (--strict)")
    assert transactions(records, pid) == []
    closes = list(closes_to(records, port).values())
    assert [c.get("plaintextMissed") for c in closes] == [
        "plaintext not captured: no probe on this process's TLS library"] * 2
    served = [t["path"] for t in transactions(records) if t.get("serverSide")]
    assert sorted(served) == ["/hello.txt?strict-1", "/hello.txt?strict-2"]


RUNC_CONTAINER = "ab" * 32


def test_container_run_by_runc_through_the_broker(cleartap, nginx):
    """A real OCI runtime: runc starts curl from its own root tree (pivot_root, mount, pid, ipc
    and uts namespaces, the host's network to reach nginx) in the cgroup it creates for the
    container (cgroupfs driver: the leaf is the container id). Captured through the broker,
    with runc's container id and the host pid."""
    port, _ = nginx
    bundle = cleartap.dir / "bundle"
    bundle.mkdir()
    subprocess.run(["runc", "spec"], cwd=bundle, check=True)
    tree = root_tree(bundle / "rootfs")
    config = json.loads((bundle / "config.json").read_text())
    config["root"] = {"path": str(tree), "readonly": True}
    config["process"].update(terminal=False, args=curl_twice(port, "runc"))
    config["linux"]["namespaces"] = [n for n in config["linux"]["namespaces"]
                                     if n["type"] != "network"]
    config["linux"]["cgroupsPath"] = f"/cleartap-test/{RUNC_CONTAINER}"
    (bundle / "config.json").write_text(json.dumps(config))
    base = ("/sys/fs/cgroup/memory" if os.path.isdir("/sys/fs/cgroup/memory")
            else "/sys/fs/cgroup")
    cleartap.start_loader()
    cleartap.start_collector()
    name = f"cleartap-{os.getpid()}"
    p = subprocess.Popen(["runc", "run", name], cwd=bundle, stdout=subprocess.PIPE)
    try:
        pid = host_pid_of_curl(p, f"{base}/cleartap-test/{RUNC_CONTAINER}")
    finally:
        subprocess.run(["runc", "delete", "-f", name], capture_output=True)
        for parent in glob.glob("/sys/fs/cgroup/*/cleartap-test") + ["/sys/fs/cgroup/cleartap-test"]:
            if os.path.isdir(parent):
                os.rmdir(parent)
    records = cleartap.stop_collector()
    inode = (tree / "usr/lib/x86_64-linux-gnu/libssl.so.3").stat().st_ino
    [lib] = [r["attachment"] for r in records if "attachment" in r
             and int(r["attachment"].get("inode", 0)) == inode]
    assert lib["pid"] == pid and lib["containerId"] == RUNC_CONTAINER
    if not harness.kernel_has_uprobe_multi():
        assert lib["status"] == "STATUS_SKIPPED" and transactions(records, pid) == []
        return
    assert lib["status"] == "STATUS_ATTACHED" and "opened by the broker in mnt:[" in lib["detail"]
    mine = {t.get("path"): t for t in transactions(records, pid)}
    second = mine["/hello.txt?runc-2"]
    assert (second["status"], second["process"]["containerId"]) == (200, RUNC_CONTAINER)
    closes = list(closes_to(records, port).values())
    assert len(closes) == 2
    assert_first_request_accounted(mine, closes, "runc")
