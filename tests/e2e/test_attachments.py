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


SYNONYMS = {"jne": "jnz", "je": "jz", "jae": "jnb", "jb": "jb", "ja": "jnbe", "jbe": "jbe",
            "jg": "jnle", "jge": "jnl", "jl": "jl", "jle": "jle", "jnae": "jb", "jc": "jb"}


def objdump_mnemonic(path, function, offset):
    """The instruction at function+offset as binutils decodes it: a second, independent decoder."""
    out = subprocess.run(["objdump", "-d", "-M", "intel", "--no-show-raw-insn",
                          f"--disassemble={function}", path],
                         capture_output=True, text=True, check=True).stdout
    start = None
    for line in out.splitlines():
        if line.endswith(">:") and f"<{function}" in line:
            start = int(line.split()[0], 16)
        elif start is not None and ":" in line and line.strip():
            addr, _, insn = line.strip().partition(":")
            try:
                here = int(addr, 16)
            except ValueError:
                continue
            if here == start + offset:
                mnemonic = insn.split()[0]
                if mnemonic in ("bnd", "notrack", "rep", "lock") and len(insn.split()) > 1:
                    mnemonic = insn.split()[1]
                return SYNONYMS.get(mnemonic, mnemonic)
    raise AssertionError(f"no instruction at {function}+{offset} in {path}")


def test_probe_sites_are_reported_and_real(cleartap):
    """Every probed function names its sites; each named instruction is really there."""
    cleartap.start_loader()
    cleartap.start_collector()
    att = attachments(cleartap.stop_collector())
    for path in ("/usr/lib/x86_64-linux-gnu/libssl.so.3",
                 "/usr/lib/x86_64-linux-gnu/libgnutls.so.30"):
        sites = {s["function"]: s for s in att[path]["sites"]}
        assert len(sites) == att[path]["functions"]
        for name, s in sites.items():
            assert objdump_mnemonic(path, name, s.get("entryOffset", 0)) == \
                s["entryInstruction"], (name, s)
            exit_kind = s.get("exit", "EXIT_NONE")
            if exit_kind == "EXIT_INSTRUCTION":
                assert int(s["exitOffset"]) > s.get("entryOffset", 0)
                assert objdump_mnemonic(path, name, int(s["exitOffset"])) == \
                    s["exitInstruction"], (name, s)
            if exit_kind == "EXIT_FIRST_URETPROBE":
                assert s.get("entryOffset", 0) == 0 and s["reason"], (name, s)
            else:
                assert s.get("entryEmulated") and s.get("reason", "") == "", (name, s)
            assert s["description"].startswith(f"{name}: entry +{s.get('entryOffset', 0)} ")
            assert s["description"] in cleartap.loader_log()
    # What the planner gives Debian 12's OpenSSL on this kernel: the busy-server calls sit on
    # emulated instructions at both ends (the loader log names them the same way).
    ssl = {s["function"]: s for s in att["/usr/lib/x86_64-linux-gnu/libssl.so.3"]["sites"]}
    for name in ("SSL_write", "SSL_read"):
        assert ssl[name]["exit"] == "EXIT_INSTRUCTION" and ssl[name]["exitEmulated"], ssl[name]
    assert "SSL_write: entry +22 js (emulated), exit +56 jnz (emulated)" in cleartap.loader_log()


def test_the_loaders_own_opens_are_not_reported(cleartap):
    """The loader opens every library it probes; in a mount namespace of its own (systemd's
    sandboxing gives it one) those opens once came back as libraries a foreign process loaded,
    reported STATUS_REFUSED at every start. Its opens are relative to the directory now, which
    the library-open watcher (absolute paths, as dynamic loaders use) ignores."""
    cleartap.start_loader(prefix=["unshare", "--mount", "--propagation", "slave"])
    cleartap.start_collector()
    records = cleartap.stop_collector()
    att = [r["attachment"] for r in records if "attachment" in r]
    assert {a["path"] for a in att if a["status"] == "STATUS_ATTACHED"} == {
        "/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libgnutls.so.30"}
    assert [a for a in att if a.get("pid") == cleartap.loader.pid] == [], att
