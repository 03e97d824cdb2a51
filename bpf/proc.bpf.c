// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/*
 * Processes starting and ending (tp_btf: no tracefs needed), with what attributes their traffic:
 * executable, arguments, ids, cgroup. Reported by the kernel so even a process that exits
 * within milliseconds of its request is attributed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "ct_common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline struct cleartap_proc *reserve(__u8 event, void **ret_ring)
{
	struct cleartap_proc *rec;
	void *ring = ct_ring_for_this_cpu();

	if (!ring) {
		ct_count(CLEARTAP_CNT_NO_RING, 1);
		return NULL;
	}
	rec = bpf_ringbuf_reserve(ring, sizeof(*rec), 0);
	if (!rec) {
		ct_count(CLEARTAP_CNT_DROP_PROC, 1);
		return NULL;
	}
	__builtin_memset(rec, 0, sizeof(*rec));
	ct_fill_header(&rec->hdr, CLEARTAP_REC_PROC, sizeof(*rec), bpf_get_current_pid_tgid());
	rec->event = event;
	rec->mnt_ns =
	    BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), nsproxy, mnt_ns, ns.inum);
	*ret_ring = ring;
	return rec;
}

/*
 * The leaf name of the process's cgroup (container runtimes name it after the container).
 * With cgroup v1 the default hierarchy is the root: the memory controller's cgroup then.
 */
static __always_inline void cgroup_leaf(struct task_struct *p, char *out)
{
	const char *name = BPF_CORE_READ(p, cgroups, dfl_cgrp, kn, name);

	if (bpf_probe_read_kernel_str(out, CLEARTAP_CGROUP_LEN, name) > 1 && out[0] != '/')
		return;
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id)) {
		int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);

		if (id >= 0 && id < 16) {
			name = BPF_CORE_READ(p, cgroups, subsys[id], cgroup, kn, name);
			bpf_probe_read_kernel_str(out, CLEARTAP_CGROUP_LEN, name);
		}
	}
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ct_proc_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u64 uid_gid = bpf_get_current_uid_gid();
	unsigned long arg_start, arg_end, len;
	struct cleartap_proc *rec;
	void *ring;

	rec = reserve(CLEARTAP_PROC_EXEC, &ring);
	if (!rec)
		return 0;
	rec->start_ns = BPF_CORE_READ(p, start_time);
	rec->cgroup_id = bpf_get_current_cgroup_id();
	rec->ppid = BPF_CORE_READ(p, real_parent, tgid);
	rec->uid = (__u32)uid_gid;
	rec->gid = uid_gid >> 32;
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	bpf_probe_read_kernel_str(rec->filename, sizeof(rec->filename),
				  BPF_CORE_READ(bprm, filename));
	cgroup_leaf(p, rec->cgroup);
	/* argv was just copied onto the new stack: present in memory at this point */
	arg_start = BPF_CORE_READ(p, mm, arg_start);
	arg_end = BPF_CORE_READ(p, mm, arg_end);
	len = arg_end > arg_start ? arg_end - arg_start : 0;
	if (len > CLEARTAP_ARGS_LEN) {
		len = CLEARTAP_ARGS_LEN;
		rec->args_truncated = 1;
	}
	if (len &&
	    bpf_probe_read_user(rec->args, len & (CLEARTAP_ARGS_LEN * 2 - 1), (void *)arg_start))
		len = 0;
	rec->args_len = (__u16)len;
	/* the collector wakes at once: a binary with TLS built in is probed before it talks */
	bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
	return 0;
}

/* Declared with the task only: the tracepoint's later arguments differ between kernels. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ct_proc_exit, struct task_struct *p)
{
	struct cleartap_proc *rec;
	void *ring;

	if (BPF_CORE_READ(p, pid) != BPF_CORE_READ(p, tgid))
		return 0; /* a thread, not the process */
	rec = reserve(CLEARTAP_PROC_EXIT, &ring);
	if (!rec)
		return 0;
	rec->start_ns = BPF_CORE_READ(p, start_time);
	rec->cgroup_id = bpf_get_current_cgroup_id();
	rec->ppid = BPF_CORE_READ(p, real_parent, tgid);
	rec->exit_code = BPF_CORE_READ(p, exit_code);
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	bpf_ringbuf_submit(rec, ct_submit_flags(ring));
	return 0;
}
