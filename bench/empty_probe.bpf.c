// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/* Benchmark baseline: probes that do nothing, at the very offsets cleartap's probes use. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("uprobe")
int empty_enter(struct pt_regs *ctx)
{
	return 0;
}

SEC("uprobe")
int empty_return(struct pt_regs *ctx)
{
	return 0;
}

/* The syscall hooks cleartap uses, empty: what hooking every system call costs by itself. */
SEC("tp_btf/sys_enter")
int empty_sys_enter(void *ctx)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int empty_sys_exit(void *ctx)
{
	return 0;
}

/*
 * The socket layer's own tracepoints (Linux 6.3+), empty: what hooking only socket I/O would
 * cost instead of every system call (a candidate for cleartap's syscall programs).
 */
SEC("tp_btf/sock_send_length")
int empty_sock_send(void *ctx)
{
	return 0;
}

SEC("tp_btf/sock_recv_length")
int empty_sock_recv(void *ctx)
{
	return 0;
}
