/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cleartap-export's system call allowlist, the one place it is reviewed: one line per call (or
 * per argument condition), one reason each. Anything else kills the process (SIGSYS). It talks
 * to the network, so it may make sockets; it never executes, forks or writes a file.
 */
#include "export_seccomp_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>

/* What glibc's pthread_create passes to clone: a thread of this process, never a new one. */
#define THREAD_CLONE_FLAGS                                                                         \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |        \
	 CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)

/* clang-format off */
const struct seccomp_rule export_runtime_rules[] = {
	SECCOMP_ALLOW("poll", "curl_multi_poll waits for collectors, signals and the receiver"),
	SECCOMP_ALLOW("ppoll", "the same, as some glibc paths call it"),
	SECCOMP_ALLOW("read", "collector records, the signalfd, curl's wakeup pair, resolver files"),
	SECCOMP_ALLOW("write", "logs to stderr, curl's wakeup pair"),
	SECCOMP_ALLOW("readv", "glibc stdio"),
	SECCOMP_ALLOW("writev", "glibc stdio"),
	SECCOMP_ALLOW("accept4", "a collector connects to the listening socket"),
	SECCOMP_ALLOW("getsockopt", "SO_PEERCRED of a collector; curl reads SO_ERROR after connect"),
	SECCOMP_ALLOW("setsockopt", "curl sets TCP_NODELAY, keep-alive and buffer options"),
	SECCOMP_ALLOW("socket", "curl connects to the receiver; the resolver queries DNS"),
	SECCOMP_ALLOW("connect", "to the receiver, to DNS servers"),
	SECCOMP_ALLOW("getsockname", "curl records the local address of its connection"),
	SECCOMP_ALLOW("getpeername", "curl records the receiver's address"),
	SECCOMP_ALLOW("sendto", "requests to the receiver, DNS queries"),
	SECCOMP_ALLOW("sendmsg", "the same, as OpenSSL and the resolver send"),
	SECCOMP_ALLOW("sendmmsg", "the resolver sends A and AAAA queries together"),
	SECCOMP_ALLOW("recvfrom", "responses, DNS answers"),
	SECCOMP_ALLOW("recvmsg", "the same"),
	SECCOMP_ALLOW("bind", "the resolver binds its query socket"),
	SECCOMP_ALLOW("shutdown", "curl closes a connection"),
	SECCOMP_ALLOW("close", "sockets, collectors that disconnect"),
	SECCOMP_ALLOW("fcntl", "curl makes sockets non-blocking"),
	SECCOMP_ALLOW("ioctl", "FIONREAD on sockets (resolver, OpenSSL)"),
	SECCOMP_ALLOW_IF_CLEAR("openat", 2, O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND, "read-only: /etc/resolv.conf, /etc/hosts, /etc/nsswitch.conf and, for https, the CA certificates (libcurl and glibc re-read them); nothing is ever written"),
	SECCOMP_ALLOW("newfstatat", "the resolver checks whether resolv.conf changed"),
	SECCOMP_ALLOW("fstat", "stdio and the resolver"),
	SECCOMP_ALLOW("lseek", "stdio"),
	SECCOMP_ALLOW_IF_EQ("clone", 0, THREAD_CLONE_FLAGS, "libcurl resolves names in a thread (Debian's threaded resolver); only a thread of this process, never a fork"),
	SECCOMP_FAIL("clone3", ENOSYS, "its flags cannot be checked (they are in memory): glibc then uses clone"),
	SECCOMP_ALLOW("set_robust_list", "a new resolver thread"),
	SECCOMP_ALLOW("rseq", "a new resolver thread"),
	SECCOMP_ALLOW_IF_CLEAR("mmap", 2, PROT_EXEC, "malloc, thread stacks; never executable memory"),
	SECCOMP_ALLOW_IF_CLEAR("mprotect", 2, PROT_EXEC, "malloc arenas, thread stack guards; never executable memory"),
	SECCOMP_ALLOW("munmap", "free"),
	SECCOMP_ALLOW("mremap", "realloc of the queue"),
	SECCOMP_ALLOW("madvise", "free returns memory; a thread's stack at its exit"),
	SECCOMP_ALLOW("brk", "malloc"),
	SECCOMP_ALLOW("futex", "locks and thread joins"),
	SECCOMP_ALLOW("rt_sigprocmask", "a new thread blocks signals"),
	SECCOMP_ALLOW("rt_sigreturn", "return from a signal"),
	SECCOMP_ALLOW("clock_gettime", "timestamps, when the vDSO is unavailable"),
	SECCOMP_ALLOW("clock_nanosleep", "curl's waits"),
	SECCOMP_ALLOW("nanosleep", "curl's waits"),
	SECCOMP_ALLOW("gettid", "glibc"),
	SECCOMP_ALLOW("getpid", "curl and OpenSSL"),
	SECCOMP_ALLOW("getuid", "the resolver and OpenSSL"),
	SECCOMP_ALLOW("geteuid", "the resolver and OpenSSL"),
	SECCOMP_ALLOW("getrandom", "OpenSSL, malloc hardening, backoff jitter"),
	SECCOMP_ALLOW("uname", "the resolver"),
	SECCOMP_ALLOW("restart_syscall", "an interrupted wait resumes"),
	SECCOMP_ALLOW("exit", "a resolver thread ends"),
	SECCOMP_ALLOW("exit_group", "exit"),
};
/* clang-format on */

const size_t export_runtime_rules_count =
    sizeof(export_runtime_rules) / sizeof(export_runtime_rules[0]);
