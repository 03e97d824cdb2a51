/* SPDX-License-Identifier: Apache-2.0 */
#include "uprobe_multi.h"

#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The BPF_LINK_CREATE part of union bpf_attr, laid out as in linux 6.6+ for uprobe_multi. */
struct ct_link_create_uprobe_multi {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t um_flags;
	uint32_t pid;
	uint32_t pad;
};

int uprobe_multi_attach(int prog_fd, const char *path, const uint64_t *offsets,
			const uint64_t *cookies, size_t cnt, bool retprobe, int *ret_link_fd)
{
	struct ct_link_create_uprobe_multi attr;
	int fd;

	if (prog_fd < 0 || !path || !offsets || cnt == 0 || cnt > UINT32_MAX)
		return -EINVAL;
	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (uint32_t)prog_fd;
	attr.attach_type = CT_BPF_TRACE_UPROBE_MULTI;
	attr.path = (uint64_t)(uintptr_t)path;
	attr.offsets = (uint64_t)(uintptr_t)offsets;
	attr.cookies = (uint64_t)(uintptr_t)cookies;
	attr.cnt = (uint32_t)cnt;
	attr.um_flags = retprobe ? CT_BPF_F_UPROBE_MULTI_RETURN : 0;
	fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	if (fd < 0)
		return -errno;
	*ret_link_fd = fd;
	return 0;
}
