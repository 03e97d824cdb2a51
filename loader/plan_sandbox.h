/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The attach planner run on an untrusted file (any ELF image a process maps: an attacker can
 * craft one) in a child that holds nothing, OpenSSH privilege-separation style: it becomes the
 * unprivileged user, keeps only the file and a pipe, is bounded in memory, CPU and files, and
 * runs under a seccomp allowlist of reading and writing those two descriptors. It writes the
 * plan back; the loader checks every number of it before attaching anything.
 */
#ifndef CT_LOADER_PLAN_SANDBOX_H
#define CT_LOADER_PLAN_SANDBOX_H

#include <sys/types.h>

#include "tls_probes.h"

/* Who the planner child runs as, when the loader is still privileged. */
struct plan_sandbox {
	uid_t uid;
	gid_t gid;
	struct planner_kernel kernel;
};

/*
 * tls_probe_plan() on fd in a sandboxed child. Returns what it returns (0, -ENOENT, -ENOEXEC),
 * -ECHILD when the child died or overran its limits (a hostile file, or a planner bug), or
 * -EBADMSG when its plan does not hold up (an offset outside the file, an unknown function).
 */
int plan_sandboxed(const struct plan_sandbox *sandbox, int fd, struct tls_probe_plan *ret_plan);

/* Why a file could not be planned, for its report: the text of plan_sandboxed()'s error. */
const char *plan_error_text(int error);

/* Why a file was not planned, for logs and reports: the error, and what the plan says of it. */
void plan_error_describe(int error, const struct tls_probe_plan *plan, char *buf, size_t size);

#endif
