/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_UPROBE_LINK_H
#define CT_UPROBE_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kernel ABI values newer than the UAPI headers Debian 12 ships (linux 6.6+). */
#define CT_BPF_TRACE_UPROBE_MULTI    48
#define CT_BPF_F_UPROBE_MULTI_RETURN 1u

/*
 * Attach prog_fd (loaded with expected attach type CT_BPF_TRACE_UPROBE_MULTI) to cnt file offsets
 * of path, one cookie each, with a raw BPF_LINK_CREATE: libbpf 1.1 has no uprobe_multi API.
 * Needs no capability when the caller holds the program fd and can open path.
 * Returns 0 and the link fd in *ret_link_fd, or -errno.
 */
int uprobe_multi_attach(int prog_fd, const char *path, const uint64_t *offsets,
			const uint64_t *cookies, size_t cnt, bool retprobe, int *ret_link_fd);

/*
 * Kernels before 6.6: one uprobe (or uretprobe) perf event at a file offset of path, with prog_fd
 * (a kprobe-type program loaded without expected attach type) on it through a BPF link
 * (as_link, Linux 5.15), which carries the cookie and can be pinned; before 5.15 through
 * PERF_EVENT_IOC_SET_BPF, without a cookie (it must be 0), and the fd returned is the event's.
 * perf_event_open() needs CAP_PERFMON. Returns 0 and the link fd in *ret_link_fd (the perf event
 * lives as long as the link), or -errno.
 */
int uprobe_perf_attach(int prog_fd, const char *path, uint64_t offset, uint64_t cookie,
		       bool retprobe, bool as_link, int *ret_link_fd);

#endif
