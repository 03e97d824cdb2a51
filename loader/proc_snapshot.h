/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The processes running when the loader starts, read from /proc while it is still root (the
 * kernel shows another user's executable and namespaces only to a privileged reader), as
 * struct cleartap_proc records of event CLEARTAP_PROC_SNAPSHOT in a sealed memfd: every
 * collector it serves gets the same read-only file, so processes that predate cleartap are
 * attributed like the ones whose exec the probes saw.
 */
#ifndef CT_PROC_SNAPSHOT_H
#define CT_PROC_SNAPSHOT_H

#include <stddef.h>

/* At most this many processes are kept (about 23 MiB); more are counted in ret_left_out. */
#define PROC_SNAPSHOT_MAX 32768

/*
 * Read proc_root into a new sealed memfd. Returns 0 with *ret_fd, *ret_count, *ret_left_out;
 * -errno.
 */
int proc_snapshot_take(const char *proc_root, int *ret_fd, size_t *ret_count, size_t *ret_left_out);

#endif
