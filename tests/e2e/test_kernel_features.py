# SPDX-License-Identifier: Apache-2.0
"""The loader probes the kernel's BPF features and names each one it lacks, once, with what it
costs. Checked against the kernel's version: the features came in known releases (and Debian's
kernels backport none of them)."""
import os

import pytest

import harness

# what the loader says when a feature is missing, and its name (harness.FEATURE_SINCE: the
# release that brought it; for --test-hide-feature)
FEATURES = [
    ("no BPF ring buffer (Linux 5.8)", "ringbuf"),
    ("no uprobe_multi links (Linux 6.6)", "uprobe_multi"),
    ("no BPF links on perf events (Linux 5.15)", "perf_link"),
    ("no bpf_get_attach_cookie (Linux 5.15)", "attach_cookie"),
    ("no bpf_loop (Linux 5.17)", "bpf_loop"),
    ("no bpf_get_socket_cookie in tracing programs (Linux 5.12)", "socket_cookie"),
]


def lacking(hidden=()):
    """What the loader must name: what the kernel's release lacks, and what the run hides."""
    return [text for text, name in FEATURES if not harness.kernel_has(name) or name in hidden]


def said_lacking(log):
    said = [line.split("kernel: ", 1)[1] for line in log.splitlines()
            if line.startswith("cleartap-loader: kernel: ")]
    return [s[:s.index(")") + 1] for s in said]


def test_loader_names_what_the_kernel_lacks(cleartap):
    p = cleartap.run_loader("--attach-only", check=False)
    log = p.stderr
    assert said_lacking(log) == lacking(), log
    if not (harness.kernel_has("uprobe_multi") or harness.kernel_has("perf_link")):
        # before 5.15 nothing can pin a uprobe: the loader holds them, so it cannot leave
        assert p.returncode == 1, log
        assert log.splitlines()[-1] == (
            "cleartap-loader: --attach-only needs BPF links on perf events (Linux 5.15): here "
            "the loader holds its uprobes, and they detach when it exits; run it without "
            "--attach-only"), log
        assert "libbpf" not in log and not os.path.exists(cleartap.pin_dir), log
        return
    assert p.returncode == 0, log
    assert "2 TLS library files probed (2 newly attached)" in log, log


REFUSAL = ("cleartap-loader: this kernel cannot run cleartap's programs (see the missing "
           "features above); cleartap needs Linux 5.10 or later")


def test_a_kernel_without_ring_buffers_is_refused(cleartap):
    """Without ring buffers (before 5.8) nothing can run: refused before anything is loaded, in
    a sentence, with no verifier log and nothing pinned (--test-hide-feature makes such a
    kernel)."""
    p = cleartap.run_loader("--attach-only", "--test-hide-feature", "ringbuf", check=False)
    log = p.stderr
    assert p.returncode == 1, log
    assert said_lacking(log) == lacking(hidden=("ringbuf",)), log
    assert log.splitlines()[-1] == REFUSAL, log
    assert "libbpf" not in log and not os.path.exists(cleartap.pin_dir), log


def test_runs_under_unprivileged_bpf_disabled(cleartap, tls_cert):
    """kernel.unprivileged_bpf_disabled=2 (Debian's default), set for real: on 5.10 it refuses
    every bpf() command to a process without capabilities, so after start-up neither process
    makes one. The collector maps its rings and counters, the loader writes the per-call limit
    into its mapped map: a 40 KiB SSL_write is cut at the 16 KiB the summary level asks for,
    and the counters the collector reads say so exactly."""
    from test_capture import run_python_pair
    was = harness.unprivileged_bpf_disabled()
    if was == 1:
        pytest.fail("kernel.unprivileged_bpf_disabled=1 cannot be lowered again: set it to 2")
    config = cleartap.dir / "collector.yaml"
    config.write_text("capture-level: summary\ncall-limit: auto\n")
    config.chmod(0o644)
    with open("/proc/sys/kernel/unprivileged_bpf_disabled", "w") as f:
        f.write("2")
    try:
        cleartap.start_loader()
        collector = cleartap.start_collector("--config", str(config))
        harness.wait_for(lambda: "each call copied up to 16384 bytes" in cleartap.loader_log(),
                         what="the loader to set the limit")
        client, server = run_python_pair(cleartap, tls_cert, 40960, 100, "sysctl")
        records = cleartap.stop_collector(collector)
    finally:
        with open("/proc/sys/kernel/unprivileged_bpf_disabled", "w") as f:
            f.write(str(was))
    kernel = harness.final_stats(records)["kernel"]
    sent = len(harness.base64.b64decode(client["sent"]))  # head and body: one SSL_write_ex
    assert int(kernel["truncatedCalls"]) == 1, kernel
    assert int(kernel["truncatedBytes"]) == sent - 16384, kernel
    harness.assert_accounted(harness.final_stats(records))
    # the server read every byte in calls under the limit: its exchange is whole
    exchanges = [r["http"] for r in records if "http" in r]
    served = [x for x in exchanges if x["process"]["pid"] == server["pid"]]
    assert [(x["method"], x["path"], x["status"], int(x["requestBodySize"])) for x in served] == [
        ("POST", "/upload", 200, 40960)], exchanges


def test_stats_records_name_what_the_kernel_lacks(cleartap):
    cleartap.start_loader()
    cleartap.start_collector()
    stats = [r["stats"] for r in cleartap.stop_collector() if "stats" in r]
    assert stats and stats[-1].get("final")
    for s in stats:
        assert [d[:d.index(")") + 1] for d in s.get("kernelDegraded", [])] == lacking(), s
