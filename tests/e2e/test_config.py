# SPDX-License-Identifier: Apache-2.0
"""--config PATH: every command-line option from a YAML file (what the Kubernetes ConfigMap
holds), checked by the command line's own parser, the command line winning; errors name the
file, line and column and nothing starts."""
import subprocess
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
