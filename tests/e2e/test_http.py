# SPDX-License-Identifier: Apache-2.0
"""HTTP transactions from real peers: curl (HTTP/1.1 and HTTP/2) against nginx, nghttp against
nghttpd, Python http.client; every field asserted on both the client and the server side."""
import base64
import gzip
import json
import os
import re
import subprocess
import time

import pytest

import harness

PYTHON = "/usr/bin/python3"
BIG = "".join(f"line {i} of a compressible text body\n" for i in range(3000))


def transactions(records, pid=None):
    return [r["http"] for r in records
            if "http" in r and (pid is None or r["http"]["process"]["pid"] == pid)]


def header(h, name, section="requestHeaders"):
    for f in h.get(section, []):
        if f["name"].lower() == name:
            return harness.header_bytes(f).decode()
    return None


def body(h, which="responseBody"):
    return harness.body(h, which)


def start_nginx(cleartap, server, url):
    """nginx serving hello.txt and big.txt with `server` (listen lines and the like) in its
    server block, on its own directory; returns the process and the hello.txt ETag."""
    root = cleartap.dir / "www"
    root.mkdir()
    (root / "hello.txt").write_text("hello from nginx\n")
    (root / "big.txt").write_text(BIG)
    os.chmod(root, 0o755)
    conf = cleartap.dir / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
daemon off;
pid {cleartap.dir}/nginx.pid;
error_log {cleartap.dir}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {cleartap.dir}/nginx-body;
  server {{
    {server}
    root {root};
    gzip on; gzip_types text/plain; gzip_min_length 100;
    location = /post {{ return 200 "posted\\n"; }}
  }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", str(conf)], stderr=subprocess.DEVNULL)
    harness.wait_for(lambda: subprocess.run(["curl", "-sk", url], capture_output=True).returncode
                     == 0, what="nginx to listen")
    st = os.stat(root / "hello.txt")
    return proc, f'"{int(st.st_mtime):x}-{st.st_size:x}"'


@pytest.fixture
def nginx(cleartap, tls_cert):
    """nginx with TLS, HTTP/1.1 and HTTP/2, on its own port and directory."""
    cert, key = tls_cert
    port = harness.free_port()
    proc, etag = start_nginx(cleartap, f"""listen 127.0.0.1:{port} ssl http2;
    listen [::1]:{port} ssl http2;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;""", f"https://127.0.0.1:{port}/")
    yield port, etag
    proc.terminate()
    proc.wait(timeout=10)


def run_curl(*args):
    p = subprocess.Popen(["curl", "-sk", *args], stdout=subprocess.DEVNULL)
    assert p.wait(timeout=30) == 0
    return p.pid


def curl_keepalive(port, etag, http, scheme="https"):
    """Four requests on one connection: GET, POST with a body, gzip+chunked GET, 304."""
    url = f"{scheme}://127.0.0.1:{port}"
    # --next resets options but keeps the connection
    return run_curl(http, "-H", "Authorization: Bearer s3cret", f"{url}/hello.txt",
                    "--next", "-sk", http, "-d", "a=1&b=2", f"{url}/post",
                    "--next", "-sk", http, "-H", "Accept-Encoding: gzip", f"{url}/big.txt",
                    "--next", "-sk", http, "-H", f"If-None-Match: {etag}", f"{url}/hello.txt")


def check_keepalive_exchange(txns, port, protocol, server_side, scheme="https"):
    assert [(t["method"], t["path"], t.get("status")) for t in txns] == [
        ("GET", "/hello.txt", 200), ("POST", "/post", 200), ("GET", "/big.txt", 200),
        ("GET", "/hello.txt", 304)]
    assert {t["session"] for t in txns} == {txns[0]["session"]}  # one connection
    for t in txns:
        assert t["protocol"] == protocol
        assert t["authority"] == f"127.0.0.1:{port}"
        assert t["scheme"] == scheme
        assert t.get("serverSide", False) is server_side
        assert "error" not in t, t["error"]
        assert int(t["requestStartUnixNano"]) <= int(t["responseFirstByteUnixNano"]) <= \
            int(t["responseEndUnixNano"])
    get, post, big, not_modified = txns
    assert body(get) == b"hello from nginx\n" and get["responseBodySize"] == "17"
    assert get["responseContentType"] == "text/plain"
    # the credential never leaves the collector; equal values hash equally
    assert header(get, "authorization").startswith("[redacted:")
    assert body(post, "requestBody") == b"a=1&b=2" and post["requestBodySize"] == "7"
    assert post["requestContentType"] == "application/x-www-form-urlencoded"
    assert body(post) == b"posted\n"
    # gzip on the wire, decoded for display; the size is what crossed the wire
    assert big["responseBodyDecoding"] == "gzip"
    assert body(big) == BIG.encode()
    assert int(big["responseBodySize"]) < len(BIG)
    assert header(big, "content-encoding", "responseHeaders") == "gzip"
    if protocol == "HTTP/1.1":
        assert header(big, "transfer-encoding", "responseHeaders") == "chunked"
    assert "responseBody" not in not_modified and "responseBodySize" not in not_modified


@pytest.mark.parametrize("http,protocol", [("--http1.1", "HTTP/1.1"), ("--http2", "HTTP/2")])
def test_curl_to_nginx(cleartap, nginx, http, protocol):
    port, etag = nginx
    cleartap.start_loader()
    cleartap.start_collector()
    curl = curl_keepalive(port, etag, http)
    records = cleartap.stop_collector()
    check_keepalive_exchange(transactions(records, curl), port, protocol, server_side=False)
    served = [t for t in transactions(records) if t["process"]["comm"] == "nginx"]
    check_keepalive_exchange(served, port, protocol, server_side=True)
    if protocol == "HTTP/2":
        assert [t["streamId"] for t in transactions(records, curl)] == [1, 3, 5, 7]
    stats = harness.final_stats(records)["collector"]
    assert int(stats["httpTransactions"]) == 8


def test_head_request(cleartap, nginx):
    port, _ = nginx
    cleartap.start_loader()
    cleartap.start_collector()
    curl = run_curl("--http1.1", "-I", f"https://127.0.0.1:{port}/big.txt")
    records = cleartap.stop_collector()
    [t] = transactions(records, curl)
    assert (t["method"], t["status"]) == ("HEAD", 200)
    assert header(t, "content-length", "responseHeaders") == str(len(BIG))
    assert "responseBodySize" not in t and "error" not in t


def test_nghttp_to_nghttpd(cleartap, tls_cert):
    cert, key = tls_cert
    root = cleartap.dir / "h2root"
    root.mkdir()
    (root / "a.txt").write_text("alpha\n")
    (root / "b.txt").write_text("bravo!\n")
    port = harness.free_port()
    server = subprocess.Popen(["nghttpd", "-d", str(root), str(port), str(key), str(cert)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        harness.wait_for(lambda: subprocess.run(["nghttp", "-n", f"https://127.0.0.1:{port}/"],
                                                capture_output=True).returncode in (0, 1),
                         what="nghttpd to listen")
        cleartap.start_loader()
        cleartap.start_collector()
        client = subprocess.Popen(["nghttp", f"https://127.0.0.1:{port}/a.txt",
                                   f"https://127.0.0.1:{port}/b.txt"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert client.wait(timeout=30) == 0
        records = cleartap.stop_collector()
    finally:
        server.terminate()
        server.wait(timeout=10)
    for pid, side in ((client.pid, False), (server.pid, True)):
        txns = sorted(transactions(records, pid), key=lambda t: t["path"])
        assert [(t["method"], t["path"], t["status"], body(t)) for t in txns] == [
            ("GET", "/a.txt", 200, b"alpha\n"), ("GET", "/b.txt", 200, b"bravo!\n")]
        for t in txns:
            assert t["protocol"] == "HTTP/2" and t.get("serverSide", False) is side
            assert t["authority"] == f"127.0.0.1:{port}" and "error" not in t


def test_python_http_client(cleartap, nginx):
    port, _ = nginx
    cleartap.start_loader()
    cleartap.start_collector("--no-redact")
    script = f"""
import http.client, ssl
ctx = ssl._create_unverified_context()
c = http.client.HTTPSConnection("127.0.0.1", {port}, context=ctx)
c.request("GET", "/hello.txt", headers={{"Cookie": "id=42"}})
assert c.getresponse().read() == b"hello from nginx\\n"
c.request("POST", "/post", body=b"x" * 1000, headers={{"Content-Type": "application/octet-stream"}})
assert c.getresponse().read() == b"posted\\n"
"""
    p = subprocess.Popen([PYTHON, "-c", script])
    assert p.wait(timeout=30) == 0
    records = cleartap.stop_collector()
    get, post = transactions(records, p.pid)
    assert (get["method"], get["path"], get["status"]) == ("GET", "/hello.txt", 200)
    assert header(get, "cookie") == "id=42"  # --no-redact
    assert header(get, "accept-encoding") == "identity"
    assert (post["method"], post["status"], post["requestBodySize"]) == ("POST", 200, "1000")
    assert body(post, "requestBody") == b"x" * 1000
    assert body(post) == b"posted\n"


def test_body_limit_keeps_true_size(cleartap, nginx):
    port, _ = nginx
    cleartap.start_loader()
    cleartap.start_collector("--body-limit", "100")
    curl = run_curl("--http1.1", f"https://127.0.0.1:{port}/big.txt")
    records = cleartap.stop_collector()
    [t] = transactions(records, curl)
    assert body(t) == BIG.encode()[:100]
    assert t["responseBodySize"] == str(len(BIG)) and t["responseBodyTruncated"] is True


def test_json_shows_text_as_text(cleartap, nginx, tmp_path):
    """JSON for people: header values and text bodies are JSON strings (jq shows them as they
    were sent); a body that is not text stays base64 in its bytes field."""
    port, _ = nginx
    binary = bytes(range(256))
    (tmp_path / "binary").write_bytes(binary)
    cleartap.start_loader()
    cleartap.start_collector()
    curl = run_curl("--http1.1", "-H", "X-Note: caf\u00e9 \u2014 ok", f"https://127.0.0.1:{port}/hello.txt",
                    "--next", "-sk", "--http1.1", "--data-binary", f"@{tmp_path / 'binary'}",
                    f"https://127.0.0.1:{port}/post")
    records = cleartap.stop_collector()
    get, post = transactions(records, curl)
    assert {"name": "Host", "value": f"127.0.0.1:{port}"} in get["requestHeaders"]
    assert {"name": "X-Note", "value": "caf\u00e9 \u2014 ok"} in get["requestHeaders"]
    assert not [h for h in get["requestHeaders"] if "valueBytes" in h]
    assert get["responseBodyText"] == "hello from nginx\n" and "responseBody" not in get
    assert base64.b64decode(post["requestBody"]) == binary and "requestBodyText" not in post


def test_query_form_and_json_fields_are_redacted(cleartap, nginx):
    """A password in a query string, a form body and a JSON body: none of it leaves the
    collector in a transaction (only --raw data shows what was sent, as documented); equal
    secrets give equal markers; --redact-field adds a name; other fields stay."""
    port, _ = nginx
    url = f"https://127.0.0.1:{port}"
    cleartap.start_loader()
    cleartap.start_collector("--redact-field", "pin")
    curl = run_curl("--http1.1", f"{url}/hello.txt?user=ann&password=hunter2&page=2",
                    "--next", "-sk", "--http1.1", "-d", "user=ann&password=hunter2&pin=4711",
                    f"{url}/post",
                    "--next", "-sk", "--http1.1", "-H", "Content-Type: application/json", "-d",
                    '{"user": "ann", "auth": {"password": "hunter2", "token": 123}, "pin": 4711}',
                    f"{url}/post")
    records = cleartap.stop_collector()
    query, form, js = transactions(records, curl)
    out = "\n".join(json.dumps(r) for r in records if "http" in r)
    assert "hunter2" not in out and "4711" not in out
    marker = re.search(r"password=(\[redacted:[0-9a-f]{8}\])&page=2$", query["path"]).group(1)
    assert query["path"] == f"/hello.txt?user=ann&password={marker}&page=2"
    assert re.fullmatch(r"user=ann&password=(\[redacted:[0-9a-f]{8}\])&pin=\[redacted:[0-9a-f]{8}\]",
                        form["requestBodyText"]).group(1) == marker
    sent = json.loads(js["requestBodyText"])
    assert sent["user"] == "ann" and sent["auth"]["password"] == marker
    assert re.fullmatch(r"\[redacted:[0-9a-f]{8}\]", sent["auth"]["token"])
    assert re.fullmatch(r"\[redacted:[0-9a-f]{8}\]", sent["pin"])
    assert int(js["requestBodySize"]) == len(
        '{"user": "ann", "auth": {"password": "hunter2", "token": 123}, "pin": 4711}')


def test_text_view_one_line_per_transaction(cleartap, nginx):
    port, _ = nginx
    cleartap.start_loader()
    c = cleartap.start_collector("--format", "text")
    curl = run_curl("--http1.1", f"https://127.0.0.1:{port}/hello.txt")
    time.sleep(0.1)
    c.send_signal(2)
    assert c.wait(timeout=20) == 0
    lines = [l for l in c.out_path.read_text().splitlines() if f"curl[{curl}]" in l]
    assert len(lines) == 1
    assert re.fullmatch(rf"\d\d:\d\d:\d\d\.\d{{3}} curl\[{curl}\] sent GET "
                        rf"127\.0\.0\.1:{port}/hello\.txt -> 200, HTTP/1\.1, req 0 B, "
                        rf"resp 17 B, \d+\.\d ms, 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:{port}",
                        lines[0]), lines[0]
