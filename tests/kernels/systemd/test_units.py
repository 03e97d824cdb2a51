# SPDX-License-Identifier: Apache-2.0
"""The shipped units under a real systemd: PID 1 of a debootstrap'd Debian 12 that
tests/kernels/run boots, with cleartap installed by `meson install`. Used as an operator uses
them: `systemctl enable --now`, socket activation of the loader, records read back from the
journal, restarts of each unit, stop and start. Runs inside the guest only."""
import http.server
import json
import os
import pathlib
import shutil
import subprocess
import threading
import time

import pytest

PINS = pathlib.Path("/sys/fs/bpf/cleartap")
WWW = pathlib.Path("/root/www")
PORT = 8443
UNITS = ("cleartap-loader.socket", "cleartap-collector-metrics.socket",
         "cleartap-collector.service")


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True).stdout.strip()


def prop(unit, name):
    return sh("systemctl", "show", "-P", name, unit)


def wait_for(cond, what, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = sh("journalctl", "-n", "40", "--no-pager", "-o", "cat", "-u",
                      "cleartap-loader.service", "-u", "cleartap-collector.service", check=False)
            raise AssertionError(f"timed out waiting for {what}; bpffs: "
                                 f"{sh('findmnt', '/sys/fs/bpf', check=False)!r}; the units "
                                 f"said:\n{logs[-6000:]}")
        time.sleep(0.5)


def journal(unit):
    """What the unit wrote to the journal, as (records, text lines)."""
    out = sh("journalctl", "-u", unit, "-o", "json", "--no-pager")
    records, lines = [], []
    for entry in out.splitlines():
        message = json.loads(entry).get("MESSAGE")
        if isinstance(message, list):  # journald keeps non-UTF-8 text as bytes
            message = bytes(message).decode(errors="replace")
        if not isinstance(message, str):
            continue
        if message.startswith("{"):
            records.append(json.loads(message))
        else:
            lines.append(message)
    return records, lines


def collector_records():
    return journal("cleartap-collector.service")[0]


def transactions(pid):
    return [r["http"] for r in collector_records()
            if "http" in r and r["http"]["process"]["pid"] == pid]


def header(h, name):
    return next((f.get("value") for f in h.get("requestHeaders", [])
                 if f["name"].lower() == name), None)


def ready():
    return sh("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
              "--max-time", "5", "http://127.0.0.1:9464/readyz", check=False) == "200"


def uprobe_multi():
    """Has the kernel uprobe_multi links? The loader names what it lacks in its log."""
    return not any("kernel: no uprobe_multi" in line
                   for line in journal("cleartap-loader.service")[1])


def link_pins():
    return sorted(os.listdir(PINS / "links"))


def curl_once(marker):
    """curl's exchange with s_server, and its pid, once the journal holds it."""
    curl = subprocess.Popen(["curl", "-sk", "--http1.1", "-o", "/dev/null", "-H",
                             f"X-Marker: {marker}", f"https://127.0.0.1:{PORT}/hello.txt"])
    assert curl.wait(timeout=60) == 0
    [t] = wait_for(lambda: transactions(curl.pid), f"curl {curl.pid} in the journal")
    return curl.pid, t


def curl_until(applied, what):
    """curl again until its transaction shows a reload applied (SIGHUP is asynchronous)."""
    def attempt():
        _, t = curl_once(f"reload-{time.monotonic_ns()}")
        return t if applied(t) else None
    return wait_for(attempt, what)


@pytest.fixture(scope="module")
def server():
    WWW.mkdir(exist_ok=True)
    (WWW / "hello.txt").write_text("hello from s_server\n")
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout", str(WWW / "key.pem"),
       "-out", str(WWW / "cert.pem"))
    p = subprocess.Popen(["openssl", "s_server", "-accept", str(PORT), "-cert", "cert.pem",
                          "-key", "key.pem", "-WWW", "-quiet"], cwd=WWW,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: subprocess.run(["curl", "-sk", f"https://127.0.0.1:{PORT}/"],
                                    capture_output=True).returncode == 0, "s_server")
    yield p
    p.kill()


@pytest.fixture(scope="module")
def started(server):
    """What an operator types after installing: the loader starts when the collector connects."""
    sh("systemctl", "daemon-reload")
    sh("systemctl", "enable", "--now", UNITS[0], UNITS[1])
    assert prop("cleartap-loader.service", "ActiveState") == "inactive"
    sh("systemctl", "enable", "--now", UNITS[2])
    wait_for(ready, "the collector's /readyz")
    return True


def test_users_and_runtime_directory_come_from_the_installed_files():
    for user in ("cleartap", "cleartap-collector", "cleartap-broker", "cleartap-export"):
        assert sh("getent", "passwd", user).endswith(":/:/usr/sbin/nologin")
    assert oct(os.stat("/run/cleartap").st_mode & 0o7777) == "0o755"


def test_loader_is_socket_activated_and_both_hold_nothing(started):
    assert prop("cleartap-loader.service", "ActiveState") == "active"
    assert "cleartap-loader.socket" in prop("cleartap-loader.service", "TriggeredBy")
    for unit, user in (("cleartap-loader.service", "cleartap"),
                       ("cleartap-collector.service", "cleartap-collector")):
        pid = prop(unit, "MainPID")
        status = dict(line.split(":\t", 1) for line in
                      pathlib.Path(f"/proc/{pid}/status").read_text().splitlines())
        uid = int(sh("id", "-u", user))
        assert status["Uid"].split() == [str(uid)] * 4, (unit, status["Uid"])
        assert (status["CapEff"], status["CapPrm"], status["CapAmb"]) == ("0" * 16,) * 3, unit
        assert (status["NoNewPrivs"], status["Seccomp"]) == ("1", "2"), unit


def test_curl_is_captured_into_the_journal(started):
    marker = f"journal-{time.monotonic_ns()}"
    pid, t = curl_once(marker)
    assert (t["method"], t["path"], t["status"]) == ("GET", "/hello.txt", 200)
    assert header(t, "x-marker") == marker
    assert t["responseBodyText"] == "hello from s_server\n"
    assert t["process"]["comm"] == "curl"
    _, lines = journal("cleartap-loader.service")
    assert any("attached" in line for line in lines), lines


@pytest.mark.parametrize("where", ["/opt/late", "/tmp/late"])
def test_library_that_appears_later_is_probed(started, where):
    """A libssl copy that appears after start-up, in the host's own mount namespace, while the
    units' sandboxing gives each of them one of its own (PrivateTmp: /tmp differs too)."""
    lib = pathlib.Path(where)
    lib.mkdir(exist_ok=True)
    shutil.copy("/usr/lib/x86_64-linux-gnu/libssl.so.3", lib / "libssl.so.3")
    script = f"""
import http.client, ssl, sys
sys.stdin.readline()  # the test says when the copy is attached
c = http.client.HTTPSConnection("127.0.0.1", {PORT}, context=ssl._create_unverified_context())
c.request("GET", "/hello.txt")
assert c.getresponse().read() == b"hello from s_server\\n"
"""
    p = subprocess.Popen(["env", f"LD_LIBRARY_PATH={lib}", "/usr/bin/python3", "-c", script],
                         stdin=subprocess.PIPE, text=True)

    # a restarted loader finds the copy through the process's root (its own mount namespace
    # is the unit's) and names that path
    paths = (f"{lib}/libssl.so.3", f"/proc/{p.pid}/root{lib}/libssl.so.3")

    def attachment(status):
        return next((r["attachment"] for r in collector_records()
                     if r.get("attachment", {}).get("path") in paths
                     and r["attachment"]["status"] == status), None)

    try:
        if not uprobe_multi():
            # Debian 12's own kernel: said, not silently missed, and a loader restart probes it
            a = wait_for(lambda: attachment("STATUS_SKIPPED"), f"{lib}/libssl.so.3 reported")
            assert a["detail"] == ("appeared after start-up: attaching it needs uprobe_multi "
                                   "links (Linux 6.6); a loader restart probes it"), a
            sh("systemctl", "restart", "cleartap-loader.service")
        # the restarted loader's start-up report reaches the running collector's stream
        a = wait_for(lambda: attachment("STATUS_ATTACHED"), f"{lib}/libssl.so.3 attached")
        assert a.get("library") == "openssl", a
        p.stdin.write("go\n")
        p.stdin.close()
        assert p.wait(timeout=60) == 0
    finally:
        p.kill()
    [t] = wait_for(lambda: transactions(p.pid), "the late library's exchange")
    assert (t["path"], t["status"], t["responseBodyText"]) == ("/hello.txt", 200,
                                                         "hello from s_server\n")


def test_no_attachment_is_refused_or_unopenable(started):
    """The units give the loader a mount namespace of its own: its own opens of the files it
    probes once came back as a foreign process's libraries (STATUS_REFUSED at every start, and
    "the loader cannot open it" after a restart). Nothing here is refused."""
    bad = [r["attachment"] for r in collector_records() if "attachment" in r and (
        r["attachment"]["status"] == "STATUS_REFUSED"
        or "cannot open" in r["attachment"].get("detail", ""))]
    assert bad == []


def test_loader_restart_resumes_without_a_second_attachment(started):
    before = link_pins()
    old = prop("cleartap-loader.service", "MainPID")
    sh("systemctl", "restart", "cleartap-loader.service")
    wait_for(lambda: prop("cleartap-loader.service", "ActiveState") == "active", "loader")
    assert prop("cleartap-loader.service", "MainPID") != old
    assert link_pins() == before
    curl_once(f"after-loader-restart-{time.monotonic_ns()}")
    assert link_pins() == before


def test_collector_restart_resumes(started):
    old = prop("cleartap-collector.service", "MainPID")
    sh("systemctl", "restart", "cleartap-collector.service")
    wait_for(ready, "the restarted collector's /readyz")
    assert prop("cleartap-collector.service", "MainPID") != old
    curl_once(f"after-collector-restart-{time.monotonic_ns()}")


def test_stop_then_start(started):
    before = link_pins()
    sh("systemctl", "stop", "cleartap-collector.service", "cleartap-loader.service")
    assert prop("cleartap-collector.service", "ActiveState") == "inactive"
    assert prop("cleartap-loader.service", "ActiveState") == "inactive"
    assert prop("cleartap-loader.socket", "ActiveState") == "active"
    assert link_pins() == before  # the probes stay pinned: that is the restart promise
    sh("systemctl", "start", "cleartap-collector.service")
    wait_for(ready, "the collector's /readyz after start")
    assert prop("cleartap-loader.service", "ActiveState") == "active"  # by its socket again
    curl_once(f"after-start-{time.monotonic_ns()}")
    assert link_pins() == before


def test_reload_applies_the_config_file(started):
    """`systemctl reload` (ExecReload: SIGHUP) applies an edit of collector.yaml in place."""
    config = pathlib.Path("/etc/cleartap/collector.yaml")
    shipped = config.read_text()
    pid = prop("cleartap-collector.service", "MainPID")
    try:
        config.write_text(shipped + "capture-level: summary\n")
        sh("systemctl", "reload", "cleartap-collector.service")
        t = curl_until(lambda t: t.get("captureLevel") == "summary",
                       "a summary-level transaction")
        assert "requestHeaders" not in t and t["status"] == 200
    finally:
        config.write_text(shipped)
        sh("systemctl", "reload", "cleartap-collector.service")
    curl_until(lambda t: "requestHeaders" in t, "full capture again")
    assert prop("cleartap-collector.service", "MainPID") == pid  # reloaded, not restarted


class Receiver(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP logs endpoint that keeps every request body (stored protobuf: strings in it
    are the bytes sent)."""
    bodies = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/v1/logs" and self.headers["Content-Type"] == "application/x-protobuf":
            Receiver.bodies.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_otlp_export_through_its_socket_unit(started):
    """cleartap-export as shipped: started by its socket when the collector connects, it posts
    the collector's records to the receiver its environment file names."""
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 4318), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        pathlib.Path("/etc/cleartap/export.env").write_text(
            "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318\n")
        with open("/etc/cleartap/collector.yaml", "a") as config:
            config.write("proto: unix:/run/cleartap/export.sock\n")
        sh("systemctl", "enable", "--now", "cleartap-export.socket")
        assert prop("cleartap-export.service", "ActiveState") == "inactive"
        sh("systemctl", "restart", "cleartap-collector.service")
        wait_for(ready, "the collector's /readyz with proto: unix:")
        wait_for(lambda: prop("cleartap-export.service", "ActiveState") == "active",
                 "cleartap-export started by its socket")
        assert "cleartap-export.socket" in prop("cleartap-export.service", "TriggeredBy")
        pid = prop("cleartap-export.service", "MainPID")
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
        assert "CapEff:\t0000000000000000" in status and "Seccomp:\t2" in status
        marker = f"otlp-{time.monotonic_ns()}"
        curl_once(marker)
        wait_for(lambda: any(marker.encode() in b for b in Receiver.bodies),
                 "the exchange at the OTLP receiver")
        # the exporter's hello named it: its own requests to the receiver are not captured
        assert [r["http"]["path"] for r in collector_records() if "http" in r and
                r["http"]["process"]["comm"] == "cleartap-export"] == []
    finally:
        receiver.shutdown()
