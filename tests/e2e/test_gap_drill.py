# SPDX-License-Identifier: Apache-2.0
"""Gap drills: the collector loses chosen library calls (test-only switch), as a full ring
would. HTTP/1 resynchronises and says so; HTTP/2 is marked desynchronised, never guessed."""
import subprocess

import harness
from test_http import BIG, body, nginx, transactions  # noqa: F401 (fixture)

PYTHON = "/usr/bin/python3"


def python_client(port, paths):
    script = f"""
import http.client, ssl
c = http.client.HTTPSConnection("127.0.0.1", {port}, context=ssl._create_unverified_context())
for path in {paths!r}:
    c.request("GET", path)
    c.getresponse().read()
"""
    p = subprocess.Popen([PYTHON, "-c", script])
    assert p.wait(timeout=30) == 0
    return p.pid


def test_lost_http1_request_resynchronises(cleartap, nginx):
    port, _ = nginx
    cleartap.start_loader()
    cleartap.start_collector("--test-drop-call", "python3:write:1")
    pid = python_client(port, ["/hello.txt?1", "/hello.txt?2", "/hello.txt?3"])
    records = cleartap.stop_collector()
    first, lost, third = transactions(records, pid)
    assert (first["path"], first["status"]) == ("/hello.txt?1", 200) and "error" not in first
    # the lost request's stand-in takes the response that answered it
    assert lost["error"].startswith("gap: ") and lost["error"].endswith(
        " request bytes not captured")
    assert "method" not in lost and lost["status"] == 200
    assert int(lost["gapBytes"]) > 0
    # parsing resumed at the next request, and says so
    assert (third["path"], third["status"]) == ("/hello.txt?3", 200)
    assert third["resynchronised"] is True and "error" not in third
    assert int(harness.final_stats(records)["collector"]["gapBytes"]) == int(lost["gapBytes"])


def test_gap_inside_a_length_framed_body_keeps_sync(cleartap, nginx):
    port, _ = nginx
    cleartap.start_loader()
    # read call 2 lies inside the 90 KB body of the first response
    cleartap.start_collector("--test-drop-call", "python3:read:2", "--body-limit", "200000")
    pid = python_client(port, ["/big.txt", "/hello.txt"])
    records = cleartap.stop_collector()
    big, hello = transactions(records, pid)
    assert (big["status"], big["responseBodySize"]) == (200, str(len(BIG)))
    assert "error" not in big and int(big["gapBytes"]) > 0
    assert body(big) == BIG.encode()[:len(body(big))]  # only the contiguous prefix is kept
    assert big["responseBodyTruncated"] is True
    assert (hello["path"], hello["status"], body(hello)) == ("/hello.txt", 200,
                                                            b"hello from nginx\n")
    assert "error" not in hello and "resynchronised" not in hello


def test_http2_gap_desynchronises(cleartap, nginx):
    port, _ = nginx
    cleartap.start_loader()
    # curl's write calls: preface+SETTINGS, HEADERS 1, SETTINGS ack, HEADERS 3, ...
    cleartap.start_collector("--test-drop-call", "curl:write:3")
    url = f"https://127.0.0.1:{port}"
    p = subprocess.Popen(["curl", "-sk", "--http2", f"{url}/hello.txt", "--next", "-sk",
                          "--http2", f"{url}/hello.txt?b", "--next", "-sk", "--http2",
                          f"{url}/hello.txt?c"], stdout=subprocess.DEVNULL)
    assert p.wait(timeout=30) == 0
    records = cleartap.stop_collector()
    txns = transactions(records, p.pid)
    good = [t for t in txns if "error" not in t]
    desync = [t for t in txns if t.get("error", "").startswith("desynchronised: ")]
    assert [(t["path"], t["status"]) for t in good] == [("/hello.txt", 200)]
    assert desync and len(good) + len(desync) == len(txns)
    assert "bytes from the client not captured" in desync[0]["error"]
    # nothing after the gap carries headers that could be wrong
    for t in desync:
        assert "requestHeaders" not in t or t.get("streamId", 0) == 1
    stats = harness.final_stats(records)["collector"]
    assert int(stats["httpDesynchronised"]) == len(desync)
