# SPDX-License-Identifier: Apache-2.0
"""The loader probes the kernel's BPF features and names each one it lacks, once, with what it
costs. Checked against the kernel's version: the features came in known releases (and Debian's
kernels backport none of them)."""
import os

import harness

FLOOR = (5, 15)  # attach cookies and perf-event links: below, the loader refuses

# what the loader says when a feature is missing, the release that brought it, and its name
# for --test-hide-feature
FEATURES = [
    ("no uprobe_multi links (Linux 6.6)", (6, 6), "uprobe_multi"),
    ("no BPF links on perf events (Linux 5.15)", (5, 15), "perf_link"),
    ("no bpf_get_attach_cookie (Linux 5.15)", (5, 15), "attach_cookie"),
    ("no bpf_loop (Linux 5.17)", (5, 17), "bpf_loop"),
    ("no bpf_get_socket_cookie in tracing programs (Linux 5.12)", (5, 12), "socket_cookie"),
]


def lacking():
    """What the loader must name: what the kernel's release lacks, and what the run hides."""
    return [text for text, since, name in FEATURES
            if harness.kernel_version() < since or name in harness.HIDDEN_FEATURES]


def test_loader_names_what_the_kernel_lacks(cleartap):
    p = cleartap.run_loader("--attach-only", check=False)
    log = p.stderr
    said = [line.split("kernel: ", 1)[1] for line in log.splitlines()
            if line.startswith("cleartap-loader: kernel: ")]
    assert [s[:s.index(")") + 1] for s in said] == lacking(), log
    if harness.kernel_version() < FLOOR:
        # refused before anything is loaded: a sentence, no verifier log, nothing pinned
        assert p.returncode == 1, log
        assert log.splitlines()[-1] == (
            "cleartap-loader: this kernel cannot run cleartap's programs (see the missing "
            "features above); cleartap needs Linux 5.15 or later"), log
        assert "libbpf" not in log and not os.path.exists(cleartap.pin_dir), log
        return
    assert p.returncode == 0, log
    assert "2 TLS library files probed (2 newly attached)" in log, log


def test_stats_records_name_what_the_kernel_lacks(cleartap):
    cleartap.start_loader()
    cleartap.start_collector()
    stats = [r["stats"] for r in cleartap.stop_collector() if "stats" in r]
    assert stats and stats[-1].get("final")
    for s in stats:
        assert [d[:d.index(")") + 1] for d in s.get("kernelDegraded", [])] == lacking(), s
