/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The loader's system call allowlists. One line, one reason. Anything else kills the process.
 * Serving: once it dropped every capability, it hands out descriptors and attaches its own
 * programs to files collectors name. Planner child: what parsing one file needs, and no more.
 */
#include "seccomp_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <sys/mman.h>

/* Any of these flags in an open is refused. glibc's __O_TMPFILE includes O_DIRECTORY: only its
 * own bit here, or opening a directory (O_PATH of /proc/PID) would be refused too. */
#define OPEN_FOR_WRITING                                                                           \
	(O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | (__O_TMPFILE & ~O_DIRECTORY))

/* clang-format off */
const struct seccomp_rule loader_serving_rules[] = {
	SECCOMP_ALLOW("poll", "wait for collectors, client data, deadlines and signals"),
	SECCOMP_ALLOW("ppoll", "wait (variant glibc may use)"),
	SECCOMP_ALLOW("accept4", "accept a collector"),
	SECCOMP_ALLOW("getsockopt", "SO_PEERCRED: who is asking"),
	SECCOMP_ALLOW("recvfrom", "read the collector's hello and attach requests"),
	SECCOMP_ALLOW("sendmsg", "send the reply and the descriptors (SCM_RIGHTS)"),
	SECCOMP_ALLOW("recvmsg", "a file the broker opened (SCM_RIGHTS)"),
	SECCOMP_ALLOW_IF_EQ("sendto", 4, 0, "answer an attach request on the collector's connection"),
	SECCOMP_ALLOW("close", "done with a client, a file, a pipe"),
	SECCOMP_ALLOW("read", "signalfd: SIGTERM/SIGINT; a planner child's plan from its pipe"),
	SECCOMP_ALLOW("write", "log lines to stderr"),
	SECCOMP_ALLOW("unlink", "remove its own socket file at exit (fails harmlessly if not its own)"),
	SECCOMP_ALLOW("clock_gettime", "client deadlines and the request rate, when the vDSO is unavailable"),
	SECCOMP_ALLOW_IF_CLEAR("openat", 2, OPEN_FOR_WRITING, "open a file a collector named, as the unprivileged user; never for writing"),
	SECCOMP_ALLOW("fstat", "check the opened file is the one named (device, inode, regular)"),
	SECCOMP_ALLOW("newfstatat", "the same, as glibc spells fstat"),
	SECCOMP_ALLOW_IF_EQ("bpf", 0, BPF_LINK_CREATE, "attach its own uprobe_multi programs to a planned file"),
	SECCOMP_ALLOW("pipe2", "a planner child's plan comes back through a pipe"),
	SECCOMP_ALLOW_IF_CLEAR("clone", 0, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_VM | CLONE_THREAD, "fork a planner child: a process, never a thread or a namespace"),
	SECCOMP_FAIL("clone3", ENOSYS, "glibc falls back to clone, whose flags this filter can see"),
	SECCOMP_ALLOW("wait4", "reap a planner child"),
	SECCOMP_ALLOW("kill", "stop a planner child that overran its time"),
	SECCOMP_ALLOW_IF_EQ("fcntl", 1, F_DUPFD, "planner child: move its two descriptors above the rest"),
	SECCOMP_ALLOW_IF_EQ("fcntl", 1, F_GETFD, "planner child: libelf checks the descriptor it is given"),
	SECCOMP_ALLOW("dup2", "planner child: its two descriptors to fds 3 and 4"),
	SECCOMP_ALLOW("dup3", "the same, as some glibc builds spell dup2"),
	SECCOMP_ALLOW("close_range", "planner child: close every other descriptor"),
	SECCOMP_ALLOW("set_robust_list", "glibc in a forked child"),
	SECCOMP_ALLOW("getuid", "planner child: already unprivileged? (it drops nothing then)"),
	SECCOMP_ALLOW("geteuid", "the same"),
	SECCOMP_ALLOW("capget", "the same"),
	SECCOMP_ALLOW("prctl", "planner child: no_new_privs before its own filter"),
	SECCOMP_ALLOW("prlimit64", "planner child: its memory, CPU and file limits"),
	SECCOMP_ALLOW("seccomp", "planner child: install its own, stricter filter"),
	SECCOMP_ALLOW_IF_CLEAR("mmap", 2, PROT_EXEC, "malloc in stdio and libbpf; never executable memory"),
	SECCOMP_ALLOW("munmap", "free"),
	SECCOMP_ALLOW("mremap", "planner child: realloc of libelf's buffers"),
	SECCOMP_ALLOW("brk", "malloc"),
	SECCOMP_ALLOW("pread64", "planner child: libelf and the planner read the file"),
	SECCOMP_ALLOW("lseek", "planner child: libelf finds the file's size"),
	SECCOMP_ALLOW("futex", "glibc locks (stdio)"),
	SECCOMP_ALLOW("rt_sigreturn", "return from a signal handler"),
	SECCOMP_ALLOW("restart_syscall", "an interrupted wait resumes"),
	SECCOMP_ALLOW("exit_group", "exit"),
	SECCOMP_ALLOW("exit", "exit"),
};

/* The child that parses one untrusted file: fd 3 is the file, fd 4 the pipe to the loader. */
const struct seccomp_rule planner_child_rules[] = {
	SECCOMP_ALLOW_IF_EQ("pread64", 0, 3, "libelf and the planner read the file"),
	SECCOMP_ALLOW_IF_EQ("read", 0, 3, "libelf reads the file"),
	SECCOMP_ALLOW_IF_EQ("lseek", 0, 3, "libelf finds the file's size"),
	SECCOMP_ALLOW_IF_EQ("fstat", 0, 3, "libelf sizes the file"),
	SECCOMP_ALLOW_IF_EQ("newfstatat", 0, 3, "the same, as glibc spells fstat"),
	SECCOMP_ALLOW_IF_EQ("fcntl", 0, 3, "libelf checks the descriptor it is given"),
	SECCOMP_ALLOW_IF_EQ("write", 0, 4, "the plan, to the loader"),
	SECCOMP_ALLOW_IF_CLEAR("mmap", 2, PROT_EXEC, "malloc; never executable memory"),
	SECCOMP_ALLOW("munmap", "free"),
	SECCOMP_ALLOW("mremap", "realloc of libelf's buffers"),
	SECCOMP_ALLOW("brk", "malloc"),
	SECCOMP_ALLOW("exit_group", "done (or killed by its limits)"),
};
/* The broker, once it holds CAP_SYS_PTRACE alone: fd 3 is its socket to the loader. */
const struct seccomp_rule broker_rules[] = {
	SECCOMP_ALLOW_IF_EQ("recvfrom", 0, 3, "a request from the loader"),
	SECCOMP_ALLOW_IF_EQ("sendmsg", 0, 3, "the answer, and the opened file (SCM_RIGHTS)"),
	SECCOMP_ALLOW_IF_CLEAR("openat", 2, OPEN_FOR_WRITING, "/proc/PID, its root, its maps and its exe; never for writing"),
	SECCOMP_ALLOW("openat2", "the file, resolved inside the process's root (RESOLVE_IN_ROOT); the flags it is given are read-only"),
	SECCOMP_ALLOW("read", "/proc/PID/maps"),
	SECCOMP_ALLOW("fstat", "is the opened file regular, which device and inode"),
	SECCOMP_ALLOW("newfstatat", "the same, as glibc spells fstat"),
	SECCOMP_ALLOW("fstatfs", "an overlayfs file shows its layer's inode in maps"),
	SECCOMP_ALLOW("close", "done with a file"),
	SECCOMP_ALLOW("clock_nanosleep", "wait for ld.so to map a file just opened"),
	SECCOMP_ALLOW("restart_syscall", "an interrupted wait resumes"),
	SECCOMP_ALLOW("exit_group", "the loader is gone"),
};
/* clang-format on */

const size_t loader_serving_rules_count =
    sizeof(loader_serving_rules) / sizeof(loader_serving_rules[0]);
const size_t planner_child_rules_count =
    sizeof(planner_child_rules) / sizeof(planner_child_rules[0]);
const size_t broker_rules_count = sizeof(broker_rules) / sizeof(broker_rules[0]);
