# SPDX-License-Identifier: Apache-2.0
"""Capture levels and rules (--capture-level, --capture-rule): what leaves the collector for
each exchange, decided by the first rule that holds, checked against what curl and nginx
really exchanged; and the kernel copying no more than heads (cleartap-loader
--max-call-bytes) without the summaries losing a byte of their sizes."""
import os
import subprocess
import time
import signal

import harness
from test_http import nginx, run_curl, transactions  # noqa: F401 (fixture)

LARGE = 300_000  # served as application/octet-stream: never gzipped


def large_file(cleartap):
    data = os.urandom(LARGE)
    (cleartap.dir / "www" / "large.bin").write_bytes(data)
    (cleartap.dir / "www" / "large.bin").chmod(0o644)


def by_path(txns, pid):
    out = {}
    for t in txns:
        if t["process"]["pid"] == pid:
            out.setdefault(t["path"], []).append(t)
    return out


def test_rules_choose_what_each_exchange_keeps(cleartap, nginx):  # noqa: F811
    port, _ = nginx
    large_file(cleartap)
    cleartap.start_loader()
    collector = cleartap.start_collector(
        "--capture-level", "summary",
        "--capture-rule", "full status=4xx",
        "--capture-rule", "none path=/hello.txt",
        "--capture-rule", "headers comm=curl path=/post")
    url = f"https://127.0.0.1:{port}"
    curl = run_curl("--http1.1", f"{url}/hello.txt", "--next", "-sk", "--http1.1", "-d",
                    "a=1&b=2", f"{url}/post", "--next", "-sk", "--http1.1", f"{url}/missing",
                    "--next", "-sk", "--http1.1", f"{url}/large.bin")
    records = cleartap.stop_collector(collector)
    txns = transactions(records)
    mine = by_path(txns, curl)
    nginx_side = {}
    for t in txns:
        if t["process"].get("comm") == "nginx":
            nginx_side.setdefault(t["path"], []).append(t)
    # none: not exported on either side, and counted
    assert "/hello.txt" not in mine and "/hello.txt" not in nginx_side
    stats = harness.final_stats(records)["collector"]
    assert harness.counter(stats, "captureSuppressed") == 2
    # headers (curl's side only): headers, sizes, no body
    [post] = mine["/post"]
    assert post["captureLevel"] == "headers"
    assert {h["name"].lower() for h in post["requestHeaders"]} >= {"host", "user-agent"}
    assert post["requestBodySize"] == "7" and "requestBody" not in post
    assert "requestBodyText" not in post and "responseBodyText" not in post
    # summary (nginx's side of the same exchange): no header, no body, the sizes
    [post_nginx] = nginx_side["/post"]
    assert post_nginx["captureLevel"] == "summary"
    assert "requestHeaders" not in post_nginx and "responseHeaders" not in post_nginx
    assert post_nginx["requestBodySize"] == "7" and post_nginx["status"] == 200
    assert post_nginx["method"] == "POST" and post_nginx["authority"] == f"127.0.0.1:{port}"
    # full for a 404, whatever the default: the page nginx sent is there
    for t in mine["/missing"] + nginx_side["/missing"]:
        assert t["status"] == 404 and "captureLevel" not in t
        assert "404 Not Found" in t["responseBodyText"]
    # summary of a large response: its true size, no byte of it
    for t in mine["/large.bin"] + nginx_side["/large.bin"]:
        assert t["captureLevel"] == "summary" and t["responseBodySize"] == str(LARGE)
        assert "responseBody" not in t and "error" not in t


def test_kernel_copying_only_heads_keeps_summaries_exact(cleartap, nginx):  # noqa: F811
    port, _ = nginx
    large_file(cleartap)
    cleartap.start_loader("--max-call-bytes", "4096")
    collector = cleartap.start_collector("--capture-level", "summary")
    url = f"https://127.0.0.1:{port}"
    curl = run_curl("--http1.1", f"{url}/large.bin", "--next", "-sk", "--http1.1",
                    f"{url}/large.bin")
    records = cleartap.stop_collector(collector)
    log = collector.err_path.read_text()
    assert "note: no capture rule exports bodies" not in log  # 4096 is below the heads' size
    stats = harness.final_stats(records)
    # the kernel copied at most 4 KiB of each call: most of the bytes were never copied
    assert int(stats["kernel"]["truncatedBytes"]) >= 2 * LARGE * 3 // 4
    # HTTP/1: the uncopied rest of each call is inside a body of known length, so the parser
    # stays in sync and counts it (HTTP/2 needs whole calls: a cut frame header desynchronises)
    got = transactions(records, curl)
    nginx_got = [t for t in transactions(records) if t["process"].get("comm") == "nginx"]
    assert len(got) == 2 and len(nginx_got) == 2
    for t in got + nginx_got:
        assert (t["path"], t["status"], t["protocol"]) == ("/large.bin", 200, "HTTP/1.1")
        assert t["responseBodySize"] == str(LARGE), t
        assert t["captureLevel"] == "summary" and "error" not in t, t


def test_rules_reload_on_sighup_and_bad_rules_are_refused(cleartap, nginx):  # noqa: F811
    port, _ = nginx
    config = cleartap.dir / "collector.yaml"
    config.write_text("capture-rule: ['none path=/hello.txt']\n")
    config.chmod(0o644)
    cleartap.start_loader()
    collector = cleartap.start_collector("--config", str(config))
    url = f"https://127.0.0.1:{port}/hello.txt"
    hidden = run_curl("--http1.1", url)
    time.sleep(1)  # exported (or not) under the first rules: levels apply at export
    config.write_text("capture-level: summary\n")
    collector.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: "applied" in collector.err_path.read_text(), what="reload")
    shown = run_curl("--http1.1", url)
    records = cleartap.stop_collector(collector)
    assert not transactions(records, hidden)
    [t] = transactions(records, shown)
    assert t["captureLevel"] == "summary" and t["status"] == 200
    for rule, why in [("most path=/", "a rule starts with its level"),
                      ("full status=6xx", "status is a code (100 to 599) or a class"),
                      ("full colour=red", "keys are comm, exe, container, authority, path"),
                      ("full path", "a condition is KEY=VALUE")]:
        p = subprocess.run([str(harness.COLLECTOR), "--capture-rule", rule, "--help"],
                                   capture_output=True, text=True, timeout=10)
        assert p.returncode == 1 and f"invalid --capture-rule '{rule}': {why}" in p.stderr, \
            p.stderr


def test_call_limit_follows_the_levels(cleartap, tls_cert):
    """--call-limit auto: with no level exporting bodies the loader is asked to copy 16 KiB of
    each call (a 3 MiB sendall is one call: the rest is never copied, and counted); a reload to
    'full' asks for everything again, and the next pair's streams are whole again."""
    from test_capture import run_python_pair
    config = cleartap.dir / "collector.yaml"
    config.write_text("capture-level: summary\ncall-limit: auto\n")
    config.chmod(0o644)
    cleartap.start_loader()
    collector = cleartap.start_collector("--config", str(config))
    harness.wait_for(lambda: "each call copied up to 16384 bytes" in cleartap.loader_log(),
                     what="the loader to set the limit")
    big = 3 << 20
    run_python_pair(cleartap, tls_cert, big, 100, "limited")
    config.write_text("capture-level: full\ncall-limit: auto\n")
    collector.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: "the loader set the per-call limit: each call copied up to "
                     "4194304 bytes (--max-call-bytes)" in collector.err_path.read_text(),
                     what="the limit lifted")
    client, _ = run_python_pair(cleartap, tls_cert, big, 100, "whole")
    records = cleartap.stop_collector(collector)
    kernel = harness.final_stats(records)["kernel"]
    # the first pair's one 3 MiB SSL_write cut to 16 KiB (its server reads in smaller calls)
    truncated = int(kernel["truncatedBytes"])
    assert big - 16384 <= truncated < big, truncated
    # the second pair, after the reload, whole: its client's write stream is exact
    sent = harness.base64.b64decode(client["sent"])
    assert harness.stream(records, client["pid"], "DIRECTION_WRITE") == sent
    assert "each call copied up to 16384 bytes" in cleartap.loader_log()
