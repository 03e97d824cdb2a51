/* SPDX-License-Identifier: Apache-2.0 */
#include "bpffs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

int bpffs_is_bpffs(const char *path)
{
	struct statfs st;

	if (statfs(path, &st) < 0)
		return -errno;
	return st.f_type == BPF_FS_MAGIC;
}

int bpffs_ensure_mounted(const char *mount_point)
{
	int r = bpffs_is_bpffs(mount_point);

	if (r > 0)
		return 0;
	if (r < 0 && r != -ENOENT)
		return r;
	if (mkdir(mount_point, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (mount("bpf", mount_point, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
		return -errno;
	return 0;
}

int bpffs_mkdir_p(const char *dir)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

int bpffs_remove_tree(const char *dir)
{
	if (access(dir, F_OK) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return -errno;
	return 0;
}
