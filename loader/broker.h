/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The broker: a minimal process, forked by the loader before its drop, that opens files of
 * other mount namespaces (containers) read-only for it. Its own user, CAP_SYS_PTRACE alone (to
 * reach other users' /proc/PID/root and /proc/PID/maps), no BPF capability, its own seccomp
 * allowlist. It opens a file only inside the named process's root (no symlink leaves it) and
 * only when that process maps the very file executable, and passes the descriptor back.
 */
#ifndef CT_LOADER_BROKER_H
#define CT_LOADER_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct broker {
	pid_t pid; /* 0: no broker */
	int sock;
};

/*
 * Fork the broker; it becomes uid/gid. Call while still privileged. proc_root: where the
 * processes the kernel names are (/proc, or the host's /proc in a container). 0 or -errno.
 */
int broker_start(uid_t uid, gid_t gid, const char *proc_root, struct broker *ret);

/*
 * Ask for path as process pid sees it. Returns 0 and a read-only descriptor of a regular file
 * that pid maps executable, or -errno with the broker's reason in why. library: the file was
 * just opened, so the broker waits up to 200 ms for ld.so to map it (an executable is mapped
 * when its exec is reported). A relative path names an executable run by a relative name: the
 * broker opens the process's own executable (/proc/PID/exe).
 */
int broker_open(struct broker *b, uint32_t pid, const char *path, bool library, int *ret_fd,
		char *why, size_t why_size);

void broker_stop(struct broker *b);

#endif
