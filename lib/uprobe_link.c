/* SPDX-License-Identifier: Apache-2.0 */
#include "uprobe_link.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ct_macro.h"

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

#define UPROBE_PMU "/sys/bus/event_source/devices/uprobe"

/* A small number from a sysfs file, after an optional prefix ("config:" in a format file). */
static int read_sysfs_number(const char *path, const char *prefix, long *ret)
{
	char buf[64], *end;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t skip = prefix ? strlen(prefix) : 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (skip && strncmp(buf, prefix, skip) != 0)
		return -EINVAL;
	errno = 0;
	*ret = strtol(buf + skip, &end, 10);
	if (errno || end == buf + skip || *ret < 0 || *ret > INT32_MAX)
		return -EINVAL;
	return 0;
}

int uprobe_perf_attach(int prog_fd, const char *path, uint64_t offset, uint64_t cookie,
		       bool retprobe, bool as_link, int *ret_link_fd)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .perf_event.bpf_cookie = cookie);
	struct perf_event_attr attr;
	long type, retprobe_bit = 0;
	int pfd, link, r;

	if (prog_fd < 0 || !path || (!as_link && cookie))
		return -EINVAL;
	if ((r = read_sysfs_number(UPROBE_PMU "/type", NULL, &type)) < 0 ||
	    (retprobe &&
	     (r = read_sysfs_number(UPROBE_PMU "/format/retprobe", "config:", &retprobe_bit)) < 0))
		return r;
	if (retprobe_bit > 63)
		return -EINVAL;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = (uint32_t)type;
	attr.config = retprobe ? 1ull << retprobe_bit : 0;
	attr.config1 = (uint64_t)(uintptr_t)path; /* uprobe_path */
	attr.config2 = offset;			  /* probe_offset */
	/* every process (pid -1) needs one cpu; the program runs on all of them anyway */
	pfd = (int)syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (!as_link) {
		if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog_fd) < 0) {
			r = -errno;
			close(pfd);
			return r;
		}
		*ret_link_fd = pfd;
		return 0;
	}
	link = bpf_link_create(prog_fd, pfd, BPF_PERF_EVENT, &opts);
	r = link < 0 ? -errno : 0;
	close(pfd); /* the link holds the event */
	if (r < 0)
		return r;
	*ret_link_fd = link;
	return 0;
}
