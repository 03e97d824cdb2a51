# SPDX-License-Identifier: Apache-2.0
"""Attach state is visible: a record per library file the loader probed or could not, with
the library kind, the reason when it could not, and counters."""
import shutil
import subprocess

import harness


def attachments(records):
    return {r["attachment"]["path"]: r["attachment"] for r in records if "attachment" in r}


def test_attach_state_is_reported(cleartap):
    copy = cleartap.dir / "libssl.so.3"
    shutil.copy("/usr/lib/x86_64-linux-gnu/libssl.so.3", copy)
    cleartap.start_loader("--attach", str(copy), "--attach", "/bin/true")
    cleartap.start_collector()
    records = cleartap.stop_collector()
    att = attachments(records)
    system = att["/usr/lib/x86_64-linux-gnu/libssl.so.3"]
    assert (system["library"], system["status"], system["functions"]) == (
        "openssl", "STATUS_ATTACHED", 6)
    gnutls = att["/usr/lib/x86_64-linux-gnu/libgnutls.so.30"]
    assert (gnutls["library"], gnutls["status"], gnutls["functions"]) == (
        "gnutls", "STATUS_ATTACHED", 3)
    assert att[str(copy)]["status"] == "STATUS_ATTACHED"
    assert att[str(copy)]["inode"] != system["inode"]  # a distinct file, probed on its own
    true = att["/bin/true"]
    assert true["status"] == "STATUS_SKIPPED" and "library" not in true
    assert true["detail"] == "no OpenSSL or GnuTLS data functions found"
    stats = harness.final_stats(records)["collector"]
    assert int(stats["unprobedFiles"]) == 1
    assert int(stats["probedFiles"]) == len(att) - 1

    # A second loader run reuses the pins and says so.
    cleartap.loader.terminate()
    cleartap.loader.wait(timeout=10)
    cleartap.start_loader("--attach", str(copy))
    cleartap.start_collector()
    again = attachments(cleartap.stop_collector())
    assert again[str(copy)]["status"] == "STATUS_ALREADY_ATTACHED"
    assert again["/usr/lib/x86_64-linux-gnu/libssl.so.3"]["status"] == "STATUS_ALREADY_ATTACHED"


def test_text_view_lists_probed_files(cleartap):
    cleartap.start_loader("--attach", "/bin/true")
    c = cleartap.start_collector("--format", "text")
    c.send_signal(2)
    assert c.wait(timeout=20) == 0
    lines = c.out_path.read_text().splitlines()
    assert "-- probing /usr/lib/x86_64-linux-gnu/libssl.so.3 (openssl, 6 functions)" in lines
    assert "-- not probing /bin/true: no OpenSSL or GnuTLS data functions found" in lines
