/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_LOADER_TARGETS_H
#define CT_LOADER_TARGETS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "objects.h"
#include "plan_sandbox.h"
#include "tls_probes.h"

/* One library file to probe, named by a path this process can open. */
struct tls_target {
	dev_t dev;
	ino_t ino;
	char path[PATH_MAX]; /* may be /proc/<pid>/root/... for another mount namespace */
	bool executable;     /* a running process's executable: most have no TLS in them */
};

struct tls_target_list {
	struct tls_target *items;
	size_t n;
};

/*
 * Every distinct libssl file mapped by a running process (found under proc_root: "/proc", or
 * the host's /proc mounted elsewhere in a container), the system's default libssl, the extra
 * paths given, then every running process's executable (Go, or OpenSSL built in: the planner
 * tells). Files are told apart by device and inode. Returns 0 or -errno.
 */
int targets_discover(const char *proc_root, const char *const *extra, size_t n_extra,
		     struct tls_target_list *ret_list);

void targets_free(struct tls_target_list *list);

/*
 * Open a file to probe (read-only, non-blocking, close-on-exec) relative to its directory: the
 * library-open watcher (bpf/syscalls.bpf.c) takes only absolute paths, which dynamic loaders
 * use, so the loader's own opens are not reported back to the collector as libraries a process
 * loaded. Returns the fd or -errno.
 */
int target_open(const char *path);

enum target_result {
	TARGET_ATTACHED,
	TARGET_ALREADY_ATTACHED,
};

/*
 * Attach the TLS programs to one target at the sites the attach planner chooses (in a sandboxed
 * child: the file may be any process's),
 * and pin the links as links/tls_<dev>_<ino>_{enter,exit,return} (the set a plan needs present
 * means it is attached: never twice). ret_plan says what was probed, where, and what is missing.
 * Returns 0, -ENOENT when required symbols are missing, -ENOEXEC when not ELF, or -errno.
 */
int target_attach(struct objects *objects, const struct plan_sandbox *sandbox, const char *pin_dir,
		  const struct tls_target *target, enum target_result *ret_result,
		  struct tls_probe_plan *ret_plan);

#endif
