/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's system call allowlist: the one place it is reviewed. One line per call (or per
 * argument condition), one reason each. Anything else kills the process (SIGSYS).
 */
#include "seccomp_policy.h"

#include "config_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

/* clang-format off */
const struct seccomp_rule collector_runtime_rules[] = {
	SECCOMP_ALLOW("epoll_wait", "libuv waits for the drain timer, ring wakeups and signals"),
	SECCOMP_ALLOW("epoll_pwait", "libuv waits (variant used by some libuv builds)"),
	SECCOMP_ALLOW("epoll_ctl", "libuv re-arms the descriptors it watches"),
	SECCOMP_ALLOW("read", "libuv reads its signal pipe and wakeup eventfd"),
	SECCOMP_ALLOW("write", "records to stdout and the protobuf sink, logs to stderr, libuv wakeups"),
	SECCOMP_ALLOW_IF_EQ("sendto", 4, 0, "records to a --proto unix: consumer on its connected socket (MSG_DONTWAIT, MSG_NOSIGNAL); no addressed datagrams"),
	SECCOMP_ALLOW_IF_EQ("recvfrom", 4, 0, "the loader's answers to attach requests, on the handoff connection; cleartap-export's hello on the --proto unix: connection"),
	SECCOMP_ALLOW_IF_EQ("recvmsg", 2, MSG_CMSG_CLOEXEC, "a descriptor from the opener child (the --proto file on SIGHUP, a connection to a restarted loader), then that loader's reply; the collector opens nothing itself"),
	SECCOMP_ALLOW_IF_EQ("accept4", 0, COLLECTOR_METRICS_FD, "a scrape of --metrics-listen: connections are accepted on that listening socket only, then read, written and closed"),
	SECCOMP_ALLOW_IF_EQ("getsockopt", 2, SO_PEERCRED, "which process a reconnected --proto unix: consumer is (cleartap-export), so its own traffic is not exported"),
	SECCOMP_ALLOW("fstat", "stdio sizes its buffers"),
	SECCOMP_ALLOW_IF_EQ("ioctl", 1, FIONBIO, "libuv makes a restarted loader's lease connection non-blocking"),
	SECCOMP_ALLOW("getdents64", "list kubelet's container log links again for pod names (the directory was opened at start-up; no other can be opened)"),
	SECCOMP_ALLOW("lseek", "rewind that directory before listing it"),
	SECCOMP_ALLOW("newfstatat", "stat() a newly seen library or executable: its device and inode name it in an attach request (it is never opened)"),
	SECCOMP_ALLOW_IF_CLEAR("mmap", 2, PROT_EXEC, "malloc; never executable memory"),
	SECCOMP_ALLOW_IF_CLEAR("mprotect", 2, PROT_EXEC, "malloc arenas; never executable memory"),
	SECCOMP_ALLOW("munmap", "free"),
	SECCOMP_ALLOW("mremap", "realloc of large reassembly buffers"),
	SECCOMP_ALLOW("madvise", "free returns memory to the kernel"),
	SECCOMP_ALLOW("brk", "malloc"),
	SECCOMP_ALLOW("futex", "glibc locks (stdio)"),
	SECCOMP_ALLOW("rt_sigreturn", "return from libuv's signal handler (SIGINT/SIGTERM stop)"),
	SECCOMP_ALLOW("rt_sigprocmask", "libuv blocks signals while dispatching them"),
	SECCOMP_ALLOW("clock_gettime", "timestamps, when the vDSO is unavailable"),
	SECCOMP_ALLOW("getpid", "libuv's signal handler checks it runs in its own process"),
	SECCOMP_ALLOW("getrandom", "glibc malloc hardening"),
	SECCOMP_ALLOW("close", "libuv and sink teardown at exit"),
	SECCOMP_ALLOW("restart_syscall", "an interrupted wait resumes"),
	SECCOMP_ALLOW("exit_group", "exit"),
	SECCOMP_ALLOW("exit", "exit"),
	SECCOMP_FAIL("io_uring_setup", ENOSYS, "newer libuv probes io_uring and falls back to epoll"),
	SECCOMP_FAIL("statx", ENOSYS, "glibc falls back to fstat-based paths"),
};

const struct seccomp_rule collector_startup_rules[] = {
	SECCOMP_ALLOW("execve", "the container runtime starts the collector"),
	SECCOMP_ALLOW("arch_prctl", "dynamic loader: thread pointer"),
	SECCOMP_ALLOW("set_tid_address", "dynamic loader: thread setup"),
	SECCOMP_ALLOW("set_robust_list", "dynamic loader: thread setup"),
	SECCOMP_ALLOW("rseq", "glibc registers restartable sequences"),
	SECCOMP_ALLOW("prlimit64", "glibc reads the stack limit"),
	SECCOMP_ALLOW("access", "dynamic loader"),
	SECCOMP_ALLOW("mmap", "dynamic loader maps shared libraries executable: a runtime installs the profile before execve (the collector's own filter then forbids PROT_EXEC)"),
	SECCOMP_ALLOW("mprotect", "dynamic loader makes relocations read-only (the collector's own filter then forbids PROT_EXEC)"),
	SECCOMP_ALLOW("clock_nanosleep", "wait between attempts to reach the loader (--wait)"),
	SECCOMP_ALLOW("openat", "dynamic loader, locale, /sys/devices/system/cpu/possible"),
	SECCOMP_ALLOW("newfstatat", "dynamic loader and stdio"),
	SECCOMP_ALLOW("pread64", "dynamic loader reads ELF headers; read the loader's process snapshot"),
	SECCOMP_ALLOW("lseek", "stdio"),
	SECCOMP_ALLOW("ioctl", "stdio checks whether stdout is a terminal"),
	SECCOMP_ALLOW("socket", "connect to the loader's handoff socket; open a unix protobuf sink"),
	SECCOMP_ALLOW("connect", "connect to the loader's handoff socket; open a unix protobuf sink"),
	SECCOMP_ALLOW("sendto", "send the handoff hello"),
	SECCOMP_ALLOW_IF_EQ("setsockopt", 2, SO_SNDTIMEO, "bound the final flush to a unix protobuf sink"),
	SECCOMP_ALLOW_IF_EQ("setsockopt", 2, SO_RCVTIMEO, "bound the wait for the opener child's answer"),
	SECCOMP_ALLOW("socketpair", "the opener child's connection"),
	SECCOMP_ALLOW_IF_EQ("setsockopt", 2, SO_REUSEADDR, "--metrics-listen rebinds its port at once after a restart"),
	SECCOMP_ALLOW("bind", "--metrics-listen: its address (the socket is made before lock-down)"),
	SECCOMP_ALLOW("listen", "--metrics-listen"),
	SECCOMP_ALLOW("getsockname", "--metrics-listen: log the port bound"),
	SECCOMP_ALLOW("getsockopt", "--metrics-listen systemd: check the received descriptor is a stream socket"),
	SECCOMP_ALLOW("clone", "fork the opener child (before any data is read)"),
	SECCOMP_ALLOW("dup2", "the opener child puts its socket at descriptor 3"),
	SECCOMP_ALLOW("close_range", "the opener child closes everything of the collector's"),
	SECCOMP_ALLOW("recvmsg", "receive the handoff reply and its descriptors"),
	SECCOMP_ALLOW("readlink", "tell a received bpf-map descriptor from a bpf-prog one"),
	SECCOMP_ALLOW("epoll_create1", "libuv loop and the ring reader's epoll set"),
	SECCOMP_ALLOW("eventfd2", "libuv loop wakeups"),
	SECCOMP_ALLOW("pipe2", "libuv signal pipe"),
	SECCOMP_ALLOW("rt_sigaction", "libuv installs SIGINT/SIGTERM handlers"),
	SECCOMP_ALLOW("fcntl", "libuv sets descriptors non-blocking; check the process snapshot is sealed"),
	SECCOMP_ALLOW("getuid", "refuse to run as root"),
	SECCOMP_ALLOW("geteuid", "refuse to run as root"),
	SECCOMP_ALLOW("capget", "check that no capability is held"),
	SECCOMP_ALLOW("capset", "drop every capability"),
	SECCOMP_ALLOW("prctl", "no_new_privs, ambient and bounding sets, securebits"),
	SECCOMP_ALLOW("setgroups", "drop to --user when started as root (not in Kubernetes)"),
	SECCOMP_ALLOW("setresgid", "drop to --user when started as root (not in Kubernetes)"),
	SECCOMP_ALLOW("setresuid", "drop to --user when started as root (not in Kubernetes)"),
	SECCOMP_ALLOW("getresuid", "verify the drop"),
	SECCOMP_ALLOW("getresgid", "verify the drop"),
	SECCOMP_ALLOW("getgroups", "verify the drop"),
	SECCOMP_ALLOW("seccomp", "install the collector's own, stricter filter"),
};
/* Nothing of the collector's is in the child: it was forked before any data was read. */
const struct seccomp_rule opener_rules[] = {
	SECCOMP_ALLOW_IF_EQ("read", 0, 3, "a request from the collector, on its socket"),
	SECCOMP_ALLOW_IF_EQ("openat", 2, PROTO_FILE_FLAGS, "open the --proto file: appending, never through a symlink (the path is fixed in the child's memory)"),
	SECCOMP_ALLOW_IF_EQ("openat", 2, CONFIG_FILE_FLAGS, "open the --config file read-only for a SIGHUP reload (the path is fixed in the child's memory)"),
	SECCOMP_ALLOW("fstat", "check it is a regular file"),
	SECCOMP_ALLOW("newfstatat", "check it is a regular file (glibc's fstat)"),
	SECCOMP_ALLOW_IF_EQ("socket", 0, AF_UNIX, "a connection to the loader's socket or the --proto unix: socket (the paths are fixed in the child's memory)"),
	SECCOMP_ALLOW("connect", "to the loader's socket, to the --proto unix: socket"),
	SECCOMP_ALLOW_IF_EQ("setsockopt", 2, SO_SNDTIMEO, "bound the collector's final flush to a --proto unix: consumer"),
	SECCOMP_ALLOW_IF_EQ("setsockopt", 2, SO_RCVTIMEO, "bound the collector's wait for that loader's reply"),
	SECCOMP_ALLOW_IF_EQ("sendmsg", 0, 3, "hand the descriptor to the collector"),
	SECCOMP_ALLOW("close", "its copy of the descriptor"),
	SECCOMP_ALLOW("exit_group", "exit when the collector closes the socket"),
	SECCOMP_ALLOW("exit", "exit"),
};
/* clang-format on */

const size_t opener_rules_count = sizeof(opener_rules) / sizeof(opener_rules[0]);

const size_t collector_runtime_rules_count =
    sizeof(collector_runtime_rules) / sizeof(collector_runtime_rules[0]);
const size_t collector_startup_rules_count =
    sizeof(collector_startup_rules) / sizeof(collector_startup_rules[0]);
