/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The loader's system call allowlist once it serves descriptors (after it dropped every
 * capability). One line, one reason. Anything else kills the process. No bpf() at all: object
 * ids were read before the drop.
 */
#include "seccomp_policy.h"

#include <sys/mman.h>

#define ALLOW(name, why)                                                                           \
	{                                                                                          \
		.syscall = name, .reason = why                                                     \
	}
#define ALLOW_IF_CLEAR(name, a, m, why)                                                            \
	{                                                                                          \
		.syscall = name, .check = CT_ARG_MASKED_ZERO, .arg = a, .value = m, .reason = why  \
	}

/* clang-format off */
const struct seccomp_rule loader_serving_rules[] = {
	ALLOW("poll", "wait for collectors, client data, deadlines and signals"),
	ALLOW("ppoll", "wait (variant glibc may use)"),
	ALLOW("accept4", "accept a collector"),
	ALLOW("getsockopt", "SO_PEERCRED: who is asking"),
	ALLOW("recvfrom", "read the collector's hello"),
	ALLOW("sendmsg", "send the reply and the descriptors (SCM_RIGHTS)"),
	ALLOW("close", "done with a client"),
	ALLOW("read", "signalfd: SIGTERM/SIGINT"),
	ALLOW("write", "log lines to stderr"),
	ALLOW("unlink", "remove its own socket file at exit (fails harmlessly if not its own)"),
	ALLOW("clock_gettime", "client deadlines, when the vDSO is unavailable"),
	ALLOW_IF_CLEAR("mmap", 2, PROT_EXEC, "malloc in stdio; never executable memory"),
	ALLOW("munmap", "free"),
	ALLOW("brk", "malloc"),
	ALLOW("futex", "glibc locks (stdio)"),
	ALLOW("rt_sigreturn", "return from a signal handler"),
	ALLOW("restart_syscall", "an interrupted wait resumes"),
	ALLOW("exit_group", "exit"),
	ALLOW("exit", "exit"),
};
/* clang-format on */

const size_t loader_serving_rules_count =
    sizeof(loader_serving_rules) / sizeof(loader_serving_rules[0]);
