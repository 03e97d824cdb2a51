/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The loader's system call allowlist once it serves descriptors (after it dropped every
 * capability). One line, one reason. Anything else kills the process. No bpf() at all: object
 * ids were read before the drop.
 */
#include "seccomp_policy.h"

#include <sys/mman.h>

/* clang-format off */
const struct seccomp_rule loader_serving_rules[] = {
	SECCOMP_ALLOW("poll", "wait for collectors, client data, deadlines and signals"),
	SECCOMP_ALLOW("ppoll", "wait (variant glibc may use)"),
	SECCOMP_ALLOW("accept4", "accept a collector"),
	SECCOMP_ALLOW("getsockopt", "SO_PEERCRED: who is asking"),
	SECCOMP_ALLOW("recvfrom", "read the collector's hello"),
	SECCOMP_ALLOW("sendmsg", "send the reply and the descriptors (SCM_RIGHTS)"),
	SECCOMP_ALLOW("close", "done with a client"),
	SECCOMP_ALLOW("read", "signalfd: SIGTERM/SIGINT"),
	SECCOMP_ALLOW("write", "log lines to stderr"),
	SECCOMP_ALLOW("unlink", "remove its own socket file at exit (fails harmlessly if not its own)"),
	SECCOMP_ALLOW("clock_gettime", "client deadlines, when the vDSO is unavailable"),
	SECCOMP_ALLOW_IF_CLEAR("mmap", 2, PROT_EXEC, "malloc in stdio; never executable memory"),
	SECCOMP_ALLOW("munmap", "free"),
	SECCOMP_ALLOW("brk", "malloc"),
	SECCOMP_ALLOW("futex", "glibc locks (stdio)"),
	SECCOMP_ALLOW("rt_sigreturn", "return from a signal handler"),
	SECCOMP_ALLOW("restart_syscall", "an interrupted wait resumes"),
	SECCOMP_ALLOW("exit_group", "exit"),
	SECCOMP_ALLOW("exit", "exit"),
};
/* clang-format on */

const size_t loader_serving_rules_count =
    sizeof(loader_serving_rules) / sizeof(loader_serving_rules[0]);
