/* SPDX-License-Identifier: Apache-2.0 */
#include "kernel_features.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <unistd.h>

#include "cleartap/handoff.h"
#include "ct_macro.h"
#include "uprobe_link.h"

const struct kernel_feature kernel_features[] = {
    {CLEARTAP_KFEAT_RINGBUF, "ringbuf",
     "no BPF ring buffer (Linux 5.8): every record travels in one, so nothing can run"},
    {CLEARTAP_KFEAT_UPROBE_MULTI, "uprobe_multi",
     "no uprobe_multi links (Linux 6.6): one uprobe link per probe site, and TLS files that "
     "appear after start-up are reported, not attached"},
    {CLEARTAP_KFEAT_PERF_LINK, "perf_link",
     "no BPF links on perf events (Linux 5.15): uprobes cannot be pinned, so the loader holds "
     "them while it runs: a loader restart detaches and attaches them again, and "
     "--attach-only is refused"},
    {CLEARTAP_KFEAT_ATTACH_COOKIE, "attach_cookie",
     "no bpf_get_attach_cookie (Linux 5.15): each probed function kind gets a program instance "
     "of its own, loaded at start-up"},
    {CLEARTAP_KFEAT_BPF_LOOP, "bpf_loop",
     "no bpf_loop (Linux 5.17): bounded copy loops instead, so at most 64 KiB of each call and "
     "the first 8 iovecs of a vectored syscall are copied; the rest is counted as truncated"},
    {CLEARTAP_KFEAT_SOCKET_COOKIE, "socket_cookie",
     "no bpf_get_socket_cookie in tracing programs (Linux 5.12): connections are named by ids "
     "cleartap makes when they open, one map lookup more per socket syscall"},
};
const size_t kernel_features_count = CT_ARRAY_SIZE(kernel_features);

/* "r0 = 0; exit" as a kprobe program, optionally with an expected attach type. */
static int load_trivial_kprobe(enum bpf_attach_type expected)
{
	const struct bpf_insn insns[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = expected);

	return bpf_prog_load(BPF_PROG_TYPE_KPROBE, "ct_probe", "GPL", insns, CT_ARRAY_SIZE(insns),
			     &opts);
}

/*
 * A link on "/" (not a regular file) is refused with EBADF by a kernel that knows uprobe_multi
 * links, and with EINVAL by one that does not know the attach type (libbpf probes the same way).
 */
static bool has_uprobe_multi(void)
{
	const uint64_t offset = 0;
	_cleanup_close_ int prog = load_trivial_kprobe(CT_BPF_TRACE_UPROBE_MULTI);
	int link;

	if (prog < 0)
		return false;
	if (uprobe_multi_attach(prog, "/", &offset, NULL, 1, false, &link) == 0) {
		close(link);
		return true;
	}
	return errno == EBADF;
}

/* BPF_LINK_CREATE on a bad perf event fd: EBADF where perf-event links exist, EINVAL before. */
static bool has_perf_link(void)
{
	_cleanup_close_ int prog = load_trivial_kprobe(0);
	int link;

	if (prog < 0)
		return false;
	link = bpf_link_create(prog, -1, BPF_PERF_EVENT, NULL);
	if (link >= 0) {
		close(link);
		return true;
	}
	return errno == EBADF;
}

static bool has_kprobe_helper(enum bpf_func_id helper)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, helper, NULL) == 1;
}

/*
 * A tp_btf program on inet_sock_set_state that asks for its socket's cookie, as ct_sock_state
 * does: loads where tracing programs have the helper.
 */
static bool has_tracing_socket_cookie(void)
{
	const struct bpf_insn insns[] = {
	    /* r1 = ctx[0] (struct sock *); call bpf_get_socket_cookie; r0 = 0; exit */
	    {.code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_1, .src_reg = BPF_REG_1},
	    {.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_socket_cookie},
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	int btf_id = libbpf_find_vmlinux_btf_id("inet_sock_set_state", BPF_TRACE_RAW_TP);
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP,
		    .attach_btf_id = btf_id > 0 ? (uint32_t)btf_id : 0);
	int prog;

	if (btf_id <= 0)
		return false;
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "ct_probe", "GPL", insns, CT_ARRAY_SIZE(insns),
			     &opts);
	if (prog < 0)
		return false;
	close(prog);
	return true;
}

uint32_t kernel_features_missing_required(uint32_t features)
{
	return ~features & CLEARTAP_KFEAT_RINGBUF;
}

uint32_t kernel_features_probe(void)
{
	uint32_t f = 0;

	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1)
		f |= CLEARTAP_KFEAT_RINGBUF;
	if (has_uprobe_multi())
		f |= CLEARTAP_KFEAT_UPROBE_MULTI;
	if (has_perf_link())
		f |= CLEARTAP_KFEAT_PERF_LINK;
	if (has_kprobe_helper(BPF_FUNC_get_attach_cookie))
		f |= CLEARTAP_KFEAT_ATTACH_COOKIE;
	if (has_kprobe_helper(BPF_FUNC_loop))
		f |= CLEARTAP_KFEAT_BPF_LOOP;
	if (has_tracing_socket_cookie())
		f |= CLEARTAP_KFEAT_SOCKET_COOKIE;
	return f;
}

uint32_t kernel_feature_by_name(const char *name)
{
	for (size_t i = 0; i < kernel_features_count; i++)
		if (strcmp(name, kernel_features[i].name) == 0)
			return kernel_features[i].feature;
	return 0;
}
