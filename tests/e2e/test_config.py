# SPDX-License-Identifier: Apache-2.0
"""--config PATH: every command-line option from a YAML file (what the Kubernetes ConfigMap
holds), checked by the command line's own parser, the command line winning; errors name the
file, line and column and nothing starts."""
import re
import signal
import subprocess
import time
import urllib.request

import harness
from test_http import nginx, run_curl, transactions  # noqa: F401 (fixture)


def test_options_from_the_file(cleartap, nginx):
    port, _ = nginx
    metrics = harness.free_port()
    config = cleartap.dir / "collector.yaml"  # the collector (nobody) reads it
    config.write_text(f"""# what the manifest's ConfigMap looks like
format: json
include-comm:
  - curl
  - wget
body-limit: 10
metrics-listen: "127.0.0.1:{metrics}"
redact-field: [pin]
all-processes: false
""")
    config.chmod(0o644)
    cleartap.start_loader()
    collector = cleartap.start_collector("--config", str(config), "--body-limit", "5")
    curl = run_curl("--http1.1", f"https://127.0.0.1:{port}/hello.txt?pin=1234")
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics}/healthz", timeout=5) as r:
        assert r.read() == b"ok\n"  # metrics-listen came from the file
    records = cleartap.stop_collector(collector)
    txns = transactions(records)
    assert {t["process"]["pid"] for t in txns} == {curl}  # include-comm: nginx's side is not
    [t] = txns
    assert harness.body(t) == b"hello"  # the command line's 5 won over the file's 10
    assert t["path"].startswith("/hello.txt?pin=[redacted:")


def test_errors_name_line_and_column(cleartap):
    cases = [
        ("format: json\nbody-limit: lots\n", "2:13: invalid --body-limit (0 to 67108864): 'lots'"),
        ("# c\nbogus: 1\n", "2:8: unknown option 'bogus'"),
        ("raw: maybe\n", "1:6: 'raw' is true or false, not 'maybe'"),
        ("include-comm: [curl\n", "2:1: did not find expected ',' or ']'"),
        ("filters:\n  a: 1\n", "2:3: 'filters' takes a value or a list of values, not a mapping"),
        ("help: true\n", "1:7: unknown option 'help'"),
    ]
    for i, (text, expected) in enumerate(cases):
        config = cleartap.dir / f"bad{i}.yaml"
        config.write_text(text)
        config.chmod(0o644)
        p = subprocess.run([*harness.AS_NOBODY, str(harness.COLLECTOR), "--config", str(config),
                            "--socket", cleartap.socket, "--wait", "0"], capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 1, text
        assert f"cleartap-collector: {config}:{expected}" in p.stderr, (text, p.stderr)
        assert "receiving from" not in p.stderr  # refused before anything started


def write_config(path, text):
    """Replace the file as editors and ConfigMaps do: a new file renamed into place."""
    tmp = path.with_suffix(".new")
    tmp.write_text(text)
    tmp.chmod(0o644)
    tmp.rename(path)


def reloaded(collector, config, nth, what="applied"):
    """SIGHUP, and wait for the nth answer about the file."""
    collector.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: collector.err_path.read_text().count(f"SIGHUP: {config}") >= nth,
                     what=f"reload {nth}")
    last = [x for x in collector.err_path.read_text().splitlines() if "SIGHUP" in x][-1]
    assert what in last, collector.err_path.read_text()


def test_sighup_reloads_filters_and_redaction_and_keeps_the_rest(cleartap, nginx):
    port, _ = nginx
    config = cleartap.dir / "collector.yaml"
    write_config(config, "exclude-comm: [curl]\nredact-field: [pin]\n")
    cleartap.start_loader()
    collector = cleartap.start_collector("--config", str(config))
    url = f"https://127.0.0.1:{port}/hello.txt"
    before = run_curl("--http1.1", f"{url}?pin=1234&code=77")
    time.sleep(1)  # dispatched under the first file: filters apply as records are dispatched
    # the new file: only curl, one more redacted field, and an option read only at start-up
    write_config(config, "include-comm: [curl]\nredact-field: [pin, code]\nmemory-limit: 64M\n")
    collector.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: "SIGHUP: " + str(config) + " applied" in
                     collector.err_path.read_text(), what="reload")
    log = collector.err_path.read_text()
    assert f"SIGHUP: {config}: --memory-limit=64M changed" in log, log
    after = run_curl("--http1.1", f"{url}?pin=1234&code=77")
    # a file that does not parse, then options that do not: the running configuration stays
    write_config(config, "include-comm: [curl\n")
    reloaded(collector, config, 3, "the running configuration stays")
    assert f"SIGHUP: {config}:2:1: did not find expected ',' or ']'" in \
        collector.err_path.read_text()
    write_config(config, "include-comm: [wget]\nbody-limit: lots\n")
    reloaded(collector, config, 4, "not applied; the running configuration stays")
    assert f"{config}:2:13: invalid --body-limit (0 to 67108864): 'lots'" in \
        collector.err_path.read_text()
    kept = run_curl("--http1.1", f"{url}?pin=1234&code=77")
    records = cleartap.stop_collector(collector)
    txns = transactions(records)
    by_pid = {}
    for t in txns:
        by_pid.setdefault(t["process"]["pid"], []).append(t)
    assert before not in by_pid  # excluded by the first file
    assert len(by_pid[after]) == 1 and len(by_pid[kept]) == 1  # each exactly once
    for pid in (after, kept):
        path = by_pid[pid][0]["path"]
        # each value replaced by its keyed digest (which may contain "77" by chance: the
        # values' absence is the shape, not a substring test)
        assert re.fullmatch(r"/hello\.txt\?pin=\[redacted:[0-9a-f]{8}\]"
                            r"&code=\[redacted:[0-9a-f]{8}\]", path), path
    # nginx's side: captured while only curl was excluded, never once only curl was included
    nginx_txns = [t for t in txns if t["process"].get("comm") == "nginx"]
    assert len(nginx_txns) == 1 and "code=77" in nginx_txns[0]["path"]
