# SPDX-License-Identifier: Apache-2.0
"""Programs that start after cleartap with TLS the loader never saw are probed: the collector
names the file, the loader (unprivileged by then) checks it, plans it in a sandboxed child and
attaches its own programs. A libssl copy loaded through LD_LIBRARY_PATH by an unprivileged user,
and Node.js with OpenSSL built in."""
import shutil
import subprocess

import harness
from test_attachments import attachments
from test_http import nginx, transactions  # noqa: F401 (fixture)


def test_libssl_copy_loaded_later_by_an_unprivileged_user(cleartap, nginx):
    port, _ = nginx
    lib = cleartap.dir / "lib"
    lib.mkdir()
    shutil.copy("/usr/lib/x86_64-linux-gnu/libssl.so.3", lib)
    lib.chmod(0o755)
    cleartap.start_loader()
    cleartap.start_collector()
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


def test_node_with_builtin_openssl_started_later(cleartap, nginx):
    port, _ = nginx
    cleartap.start_loader()
    cleartap.start_collector()
    script = f"""
setTimeout(() => require("https").get(
  {{host: "127.0.0.1", port: {port}, path: "/hello.txt?node", rejectUnauthorized: false}},
  (res) => {{ res.resume(); res.on("end", () => process.exit(res.statusCode === 200 ? 0 : 1)); }}),
  1000);
"""
    p = subprocess.Popen(["node", "-e", script])
    assert p.wait(timeout=30) == 0
    records = cleartap.stop_collector()
    node = attachments(records)[shutil.which("node")]
    assert (node["status"], node["library"]) == ("STATUS_ATTACHED", "openssl")
    [t] = transactions(records, p.pid)
    assert (t["method"], t["path"], t["status"]) == ("GET", "/hello.txt?node", 200)
    assert t["process"]["comm"] == "node"


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
    script = f"""
setTimeout(() => require("https").get(
  {{host: "127.0.0.1", port: {port}, path: "/hello.txt?nodens", rejectUnauthorized: false}},
  (res) => {{ res.resume(); res.on("end", () => process.exit(res.statusCode === 200 ? 0 : 1)); }}),
  1000);
"""
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
