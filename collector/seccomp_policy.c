/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's system call allowlist: the one place it is reviewed. One line per call (or per
 * argument condition), one reason each. Anything else kills the process (SIGSYS).
 */
#include "seccomp_policy.h"

#include <errno.h>
#include <linux/bpf.h>
#include <sys/mman.h>

#define ALLOW(name, why)                                                                           \
	{                                                                                          \
		.syscall = name, .reason = why                                                     \
	}
#define ALLOW_IF_EQ(name, a, v, why)                                                               \
	{                                                                                          \
		.syscall = name, .check = CT_ARG_EQ, .arg = a, .value = v, .reason = why           \
	}
#define ALLOW_IF_CLEAR(name, a, m, why)                                                            \
	{                                                                                          \
		.syscall = name, .check = CT_ARG_MASKED_ZERO, .arg = a, .value = m, .reason = why  \
	}
#define FAIL(name, err, why)                                                                       \
	{                                                                                          \
		.syscall = name, .errno_value = err, .reason = why                                 \
	}

/* clang-format off */
const struct seccomp_rule collector_runtime_rules[] = {
	ALLOW("epoll_wait", "libuv waits for the drain timer, ring wakeups and signals"),
	ALLOW("epoll_pwait", "libuv waits (variant used by some libuv builds)"),
	ALLOW("epoll_ctl", "libuv re-arms the descriptors it watches"),
	ALLOW("read", "libuv reads its signal pipe and wakeup eventfd"),
	ALLOW("write", "records to stdout and the protobuf sink, logs to stderr, libuv wakeups"),
	ALLOW_IF_EQ("bpf", 0, BPF_MAP_LOOKUP_ELEM, "read the kernel drop counters; nothing else of bpf()"),
	ALLOW_IF_CLEAR("mmap", 2, PROT_EXEC, "malloc; never executable memory"),
	ALLOW_IF_CLEAR("mprotect", 2, PROT_EXEC, "malloc arenas; never executable memory"),
	ALLOW("munmap", "free"),
	ALLOW("mremap", "realloc of large reassembly buffers"),
	ALLOW("madvise", "free returns memory to the kernel"),
	ALLOW("brk", "malloc"),
	ALLOW("futex", "glibc locks (stdio)"),
	ALLOW("rt_sigreturn", "return from libuv's signal handler (SIGINT/SIGTERM stop)"),
	ALLOW("rt_sigprocmask", "libuv blocks signals while dispatching them"),
	ALLOW("clock_gettime", "timestamps, when the vDSO is unavailable"),
	ALLOW("getpid", "libuv's signal handler checks it runs in its own process"),
	ALLOW("getrandom", "glibc malloc hardening"),
	ALLOW("close", "libuv and sink teardown at exit"),
	ALLOW("restart_syscall", "an interrupted wait resumes"),
	ALLOW("exit_group", "exit"),
	ALLOW("exit", "exit"),
	FAIL("io_uring_setup", ENOSYS, "newer libuv probes io_uring and falls back to epoll"),
	FAIL("statx", ENOSYS, "glibc falls back to fstat-based paths"),
};

const struct seccomp_rule collector_startup_rules[] = {
	ALLOW("execve", "the container runtime starts the collector"),
	ALLOW("arch_prctl", "dynamic loader: thread pointer"),
	ALLOW("set_tid_address", "dynamic loader: thread setup"),
	ALLOW("set_robust_list", "dynamic loader: thread setup"),
	ALLOW("rseq", "glibc registers restartable sequences"),
	ALLOW("prlimit64", "glibc reads the stack limit"),
	ALLOW("access", "dynamic loader"),
	ALLOW("openat", "dynamic loader, locale, /sys/devices/system/cpu/possible"),
	ALLOW("newfstatat", "dynamic loader and stdio"),
	ALLOW("pread64", "dynamic loader reads ELF headers"),
	ALLOW("lseek", "stdio"),
	ALLOW("ioctl", "stdio checks whether stdout is a terminal"),
	ALLOW("socket", "connect to the loader's handoff socket; open a unix protobuf sink"),
	ALLOW("connect", "connect to the loader's handoff socket; open a unix protobuf sink"),
	ALLOW("sendto", "send the handoff hello"),
	ALLOW("recvmsg", "receive the handoff reply and its descriptors"),
	ALLOW("readlink", "tell a received bpf-map descriptor from a bpf-prog one"),
	ALLOW_IF_EQ("bpf", 0, BPF_OBJ_GET_INFO_BY_FD, "check each received descriptor's type, id and size"),
	ALLOW("epoll_create1", "libuv loop and libbpf ring buffer set-up"),
	ALLOW("eventfd2", "libuv loop wakeups"),
	ALLOW("pipe2", "libuv signal pipe"),
	ALLOW("rt_sigaction", "libuv installs SIGINT/SIGTERM handlers"),
	ALLOW("fcntl", "libuv sets descriptors non-blocking"),
	ALLOW("getuid", "refuse to run as root"),
	ALLOW("geteuid", "refuse to run as root"),
	ALLOW("capget", "check that no capability is held"),
	ALLOW("capset", "drop every capability"),
	ALLOW("prctl", "no_new_privs, ambient and bounding sets, securebits"),
	ALLOW("setgroups", "drop to --user when started as root (not in Kubernetes)"),
	ALLOW("setresgid", "drop to --user when started as root (not in Kubernetes)"),
	ALLOW("setresuid", "drop to --user when started as root (not in Kubernetes)"),
	ALLOW("getresuid", "verify the drop"),
	ALLOW("getresgid", "verify the drop"),
	ALLOW("getgroups", "verify the drop"),
	ALLOW("seccomp", "install the collector's own, stricter filter"),
};
/* clang-format on */

const size_t collector_runtime_rules_count =
    sizeof(collector_runtime_rules) / sizeof(collector_runtime_rules[0]);
const size_t collector_startup_rules_count =
    sizeof(collector_startup_rules) / sizeof(collector_startup_rules[0]);
