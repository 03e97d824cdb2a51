/* SPDX-License-Identifier: Apache-2.0 */
#include "proc_snapshot.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cleartap/events.h"
#include "ct_macro.h"
#include "namespaces.h"

#define PF_KTHREAD 0x00200000 /* include/linux/sched.h: a kernel thread, no user image */

/* A small /proc file whole (or its first size - 1 bytes), NUL-terminated; its length or -errno. */
static ssize_t read_small(int dir, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return -errno;
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

/* What every process's record is read with. */
struct snapshot {
	const char *proc_root;
	int proc_fd;
	const char *cgroup2_root; /* NULL: no v2 hierarchy mounted */
	long ticks_per_s;
	uint64_t now_ns;       /* CLOCK_MONOTONIC, the records' timestamp */
	uint64_t suspended_ns; /* CLOCK_BOOTTIME - CLOCK_MONOTONIC */
};

/*
 * /proc/PID/stat: "pid (comm) state ppid ... flags(9) ... starttime(22) ...". The comm may hold
 * spaces and parentheses: the fields start after the last ')'. false for a kernel thread.
 */
static bool parse_stat(char *stat, struct cleartap_proc *rec, const struct snapshot *snap)
{
	char *open = strchr(stat, '('), *close = strrchr(stat, ')'), *field, *save = NULL;
	unsigned long long v[20] = {};
	size_t n = 0;

	if (!open || !close || close < open)
		return false;
	*close = '\0';
	ct_copy_field(rec->comm, sizeof(rec->comm), open + 1, (size_t)(close - open - 1));
	/* fields 3.. (state first); numbers from field 4 */
	for (field = strtok_r(close + 1, " ", &save); field && n < 20;
	     field = strtok_r(NULL, " ", &save), n++)
		if (n > 0)
			v[n] = strtoull(field, NULL, 10);
	if (n < 20 || (v[6] & PF_KTHREAD))
		return false;
	rec->ppid = (uint32_t)v[1];
	/* since boot, suspend included: the exec probe's start_time is CLOCK_MONOTONIC */
	rec->start_ns = v[19] * (1000000000ULL / (unsigned long long)snap->ticks_per_s);
	rec->start_ns = rec->start_ns > snap->suspended_ns ? rec->start_ns - snap->suspended_ns : 0;
	return true;
}

/* The real uid and gid from /proc/PID/status. */
static void parse_ids(const char *status, struct cleartap_proc *rec)
{
	const char *uid = strstr(status, "\nUid:"), *gid = strstr(status, "\nGid:");

	if (uid)
		rec->uid = (uint32_t)strtoul(uid + 5, NULL, 10);
	if (gid)
		rec->gid = (uint32_t)strtoul(gid + 5, NULL, 10);
}

/* The leaf of a cgroup path ("/a/b.scope" -> "b.scope"; the root's is "/", as the kernel's). */
static void copy_leaf(const char *path, struct cleartap_proc *rec)
{
	const char *slash = strrchr(path, '/');
	const char *leaf = slash && slash[1] ? slash + 1 : path;

	ct_copy_field(rec->cgroup, sizeof(rec->cgroup), leaf, strlen(leaf));
}

/*
 * From /proc/PID/cgroup, what the exec probe reads off the task: the default (v2) hierarchy's
 * cgroup id (its directory's inode under cgroup2_root; the root's is 1) and its leaf name, or,
 * when that is the root (a v1 or hybrid host), the memory controller's leaf.
 */
static void parse_cgroup(char *lines, const char *cgroup2_root, struct cleartap_proc *rec)
{
	char *v2 = NULL, *memory = NULL, *save = NULL, full[4096];
	struct stat st;

	for (char *line = strtok_r(lines, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "0::", 3) == 0)
			v2 = line + 3;
		else if (strstr(line, ":memory:"))
			memory = strstr(line, ":memory:") + 8;
	}
	if (v2 && strcmp(v2, "/") == 0)
		rec->cgroup_id = 1;
	else if (v2 && cgroup2_root &&
		 (size_t)snprintf(full, sizeof(full), "%s%s", cgroup2_root, v2) < sizeof(full) &&
		 stat(full, &st) == 0)
		rec->cgroup_id = st.st_ino;
	if (v2 && (strcmp(v2, "/") != 0 || !memory))
		copy_leaf(v2, rec);
	else if (memory)
		copy_leaf(memory, rec);
}

/* Where the v2 hierarchy is mounted, if it is. */
static const char *cgroup2_mount(void)
{
	static const char *const candidates[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
	struct statfs fs;

	for (size_t i = 0; i < CT_ARRAY_SIZE(candidates); i++)
		if (statfs(candidates[i], &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
			return candidates[i];
	return NULL;
}

/* One process into rec; false when it is gone or a kernel thread. */
static bool read_process(const struct snapshot *snap, const char *pid, struct cleartap_proc *rec)
{
	_cleanup_close_ int dir = openat(snap->proc_fd, pid, O_PATH | O_DIRECTORY | O_CLOEXEC);
	char buf[4096], link[PATH_MAX];
	ssize_t n;

	memset(rec, 0, sizeof(*rec));
	if (dir < 0 || read_small(dir, "stat", buf, sizeof(buf)) <= 0 ||
	    !parse_stat(buf, rec, snap))
		return false;
	rec->hdr = (struct cleartap_record_header){.type = CLEARTAP_REC_PROC,
						   .version = CLEARTAP_SCHEMA_VERSION,
						   .size = sizeof(*rec),
						   .timestamp_ns = snap->now_ns,
						   .tgid = (uint32_t)atoi(pid),
						   .tid = (uint32_t)atoi(pid)};
	rec->event = CLEARTAP_PROC_SNAPSHOT;
	if (read_small(dir, "status", buf, sizeof(buf)) > 0)
		parse_ids(buf, rec);
	if (read_small(dir, "cgroup", buf, sizeof(buf)) > 0)
		parse_cgroup(buf, snap->cgroup2_root, rec);
	n = read_small(dir, "cmdline", buf, CLEARTAP_ARGS_LEN + 2);
	if (n > 0) {
		rec->args_truncated = n > CLEARTAP_ARGS_LEN;
		rec->args_len = (uint16_t)(n > CLEARTAP_ARGS_LEN ? CLEARTAP_ARGS_LEN : n);
		memcpy(rec->args, buf, rec->args_len);
	}
	n = readlinkat(dir, "exe", rec->filename, sizeof(rec->filename) - 1);
	if (n < 0)
		rec->filename[0] = '\0';
	if ((size_t)snprintf(link, sizeof(link), "%s/%s/ns/mnt", snap->proc_root, pid) <
	    sizeof(link))
		rec->mnt_ns = mount_namespace_at(link);
	return true;
}

int proc_snapshot_take(const char *proc_root, int *ret_fd, size_t *ret_count, size_t *ret_left_out)
{
	_cleanup_close_ int fd =
	    memfd_create("cleartap-processes", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct snapshot snap = {.proc_root = proc_root,
				.cgroup2_root = cgroup2_mount(),
				.ticks_per_s = sysconf(_SC_CLK_TCK),
				.now_ns = ct_monotonic_ns()};
	size_t count = 0, left_out = 0;
	struct cleartap_proc rec;
	struct timespec boot;
	struct dirent *de;
	DIR *proc;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (snap.ticks_per_s <= 0 || clock_gettime(CLOCK_BOOTTIME, &boot) < 0)
		return -EINVAL;
	snap.suspended_ns = (uint64_t)boot.tv_sec * 1000000000 + (uint64_t)boot.tv_nsec;
	snap.suspended_ns = snap.suspended_ns > snap.now_ns ? snap.suspended_ns - snap.now_ns : 0;
	proc = opendir(proc_root);
	if (!proc)
		return -errno;
	snap.proc_fd = dirfd(proc);
	while ((de = readdir(proc))) {
		if (!isdigit((unsigned char)de->d_name[0]) ||
		    !read_process(&snap, de->d_name, &rec))
			continue;
		if (count == PROC_SNAPSHOT_MAX) {
			left_out++;
			continue;
		}
		if (write(fd, &rec, sizeof(rec)) != (ssize_t)sizeof(rec)) {
			r = errno ? -errno : -EIO;
			break;
		}
		count++;
	}
	closedir(proc);
	if (r < 0)
		return r;
	/* read-only from here on, for every collector it is handed to */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return -errno;
	*ret_fd = ct_take_fd(&fd);
	*ret_count = count;
	*ret_left_out = left_out;
	return 0;
}
