# SPDX-License-Identifier: Apache-2.0
"""The collector's /metrics, /healthz and /readyz (--metrics-listen): scraped by a real
Prometheus server, whose stored samples must equal what curl really did; checked by promtool;
and the endpoint stays bounded and correct against clients that misbehave."""
import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import harness
from test_http import nginx, run_curl  # noqa: F401 (fixture)


def get(port, path, method="GET"):
    """(status, body) of one request to the collector's endpoint."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def samples(text):
    """{'name{labels}': value} of an exposition."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def start_collector_with_metrics(cleartap, *args):
    port = harness.free_port()
    collector = cleartap.start_collector("--metrics-listen", f"127.0.0.1:{port}", *args)
    return collector, port


class Prometheus:
    def __init__(self, tmp_path, target_port):
        self.port = harness.free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(f"""global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: cleartap
    static_configs:
      - targets: ['127.0.0.1:{target_port}']
""")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path}/tsdb",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "w"))

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.load(r)["data"]

    def value(self, query):
        """The instant value of query, or None before Prometheus has it."""
        try:
            result = self.api("query", query=query)["result"]
        except (urllib.error.URLError, ConnectionError):
            return None
        return float(result[0]["value"][1]) if result else None

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


def test_prometheus_scrapes_what_curl_did(cleartap, nginx, tmp_path):
    """Three HTTP/1.1 and two HTTP/2 requests by curl: a real Prometheus scraping the endpoint
    stores exactly those counts (only curl is observed, so Prometheus' own scrapes, which are
    plain HTTP on this host too, do not count)."""
    port, _ = nginx
    cleartap.start_loader()
    collector, metrics_port = start_collector_with_metrics(cleartap, "--include-comm", "curl")
    prometheus = Prometheus(tmp_path, metrics_port)
    try:
        curls = [run_curl("--http1.1", f"https://127.0.0.1:{port}/hello.txt?{i}")
                 for i in range(3)]
        curls += [run_curl("--http2", f"https://127.0.0.1:{port}/hello.txt?h2-{i}")
                  for i in range(2)]
        harness.wait_for(lambda: prometheus.value(
            "cleartap_collector_http_transactions_total") == 5, timeout=60,
            what="Prometheus to store 5 transactions")
        assert prometheus.value('up{job="cleartap"}') == 1  # Prometheus parsed every scrape
        [target] = prometheus.api("targets")["activeTargets"]
        assert target["health"] == "up" and target["lastError"] == ""
        by_protocol = {p: prometheus.value(
            f'cleartap_http_transactions_by_protocol_total{{protocol="{p}"}}')
            for p in ("http1", "http2", "grpc")}
        assert by_protocol == {"http1": 3, "http2": 2, "grpc": 0}
        assert prometheus.value('cleartap_library_files{library="openssl",status="attached"}') \
            >= 1
        assert prometheus.value("cleartap_ready") == 1
        assert prometheus.value("cleartap_kernel_calls_total") > 0
        assert prometheus.value(
            "cleartap_collector_memory_limit_bytes") == 256 * 1024 * 1024
    finally:
        prometheus.stop()
    records = cleartap.stop_collector(collector)
    # the same five in the collector's own stream: the metric counted what was exported
    exported = [r["http"] for r in records if "http" in r]
    assert sorted(t["process"]["pid"] for t in exported) == sorted(curls)


def test_promtool_accepts_the_exposition(cleartap):
    cleartap.start_loader()
    collector, port = start_collector_with_metrics(cleartap)
    status, text = get(port, "/metrics")
    assert status == 200
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True)
    assert p.returncode == 0 and p.stdout + p.stderr == "", p.stdout + p.stderr
    values = samples(text)
    # every counter of the stats record is there, by the same value the record carries
    records = cleartap.stop_collector(collector)
    final = harness.final_stats(records)
    assert values["cleartap_collector_memory_limit_bytes"] == \
        int(final["collector"]["memoryLimitBytes"])
    for reason in ("ring_full", "read_fault", "session_end", "connection", "process",
                   "library_open"):
        assert f'cleartap_kernel_dropped_records_total{{reason="{reason}"}}' in values
    assert 'cleartap_ring_pending_bytes{ring="0"}' in values


def test_health_readiness_and_bad_requests(cleartap):
    cleartap.start_loader()
    collector, port = start_collector_with_metrics(cleartap)
    assert get(port, "/healthz") == (200, "ok\n")
    assert get(port, "/readyz") == (200, "ready\n")
    assert get(port, "/nothing")[0] == 404
    assert get(port, "/metrics", method="POST")[0] == 405
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 400 ")
    cleartap.stop_collector(collector)


def test_clients_that_never_finish_are_bounded(cleartap):
    """Eight silent connections fill the endpoint; a ninth is closed at once; after the
    5 s timeout the silent ones are closed and a scrape is served again."""
    cleartap.start_loader()
    collector, port = start_collector_with_metrics(cleartap)
    silent = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(8)]
    time.sleep(0.3)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as ninth:
        ninth.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            answer = ninth.recv(100)
        except ConnectionResetError:  # closed with the request unread
            answer = b""
        assert answer == b""  # closed unanswered
    started = time.monotonic()
    for s in silent:
        assert s.recv(100) == b""  # closed by the server's timeout
        s.close()
    assert time.monotonic() - started < 9
    assert get(port, "/healthz") == (200, "ok\n")
    records = cleartap.stop_collector(collector)
    assert harness.final_stats(records)  # it stopped cleanly, final stats and all


def test_socket_activation_hands_the_listener(cleartap, tmp_path):
    """--metrics-listen systemd: the listening socket comes from socket activation (what
    cleartap-collector-metrics.socket does), found by its name among the passed descriptors.
    systemd-socket-activate starts the collector at the first connection, as systemd may."""
    cleartap.start_loader()
    port, other = harness.free_port(), harness.free_port()
    err = tmp_path / "collector.err"
    collector = subprocess.Popen(
        [*harness.AS_NOBODY, "systemd-socket-activate", "-l", f"127.0.0.1:{other}",
         "--fdname=other", "-l", f"127.0.0.1:{port}", "--fdname=metrics",
         str(harness.COLLECTOR), "--socket", cleartap.socket, "--stats-interval", "0",
         "--metrics-listen", "systemd"], stdout=subprocess.DEVNULL, stderr=open(err, "w"))
    try:
        harness.wait_for(lambda: "Listening on" in err.read_text() or collector.poll() is not None,
                         what="systemd-socket-activate to listen")
        assert get(port, "/healthz") == (200, "ok\n")  # the connection that started it
        assert "metrics and health on systemd's socket" in err.read_text()
        collector.send_signal(signal.SIGINT)
        assert collector.wait(timeout=20) == 0, err.read_text()
    finally:
        collector.kill()
    # and without one, the collector says so and does not start
    p = subprocess.run([*harness.AS_NOBODY, str(harness.COLLECTOR), "--socket", cleartap.socket,
                        "--metrics-listen", "systemd"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode != 0
    assert "cannot listen on --metrics-listen systemd: no socket from systemd" in p.stderr
