/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_LOADER_BPFFS_H
#define CT_LOADER_BPFFS_H

/* Mount bpffs at mount_point unless one is there already. Returns 0 or -errno. */
int bpffs_ensure_mounted(const char *mount_point);

/* mkdir -p inside bpffs, mode 0700. Returns 0 or -errno. */
int bpffs_mkdir_p(const char *dir);

/* Remove dir and every pin below it. Missing dir is not an error. Returns 0 or -errno. */
int bpffs_remove_tree(const char *dir);

/* Whether path is on a bpffs. */
int bpffs_is_bpffs(const char *path);

#endif
