/* SPDX-License-Identifier: Apache-2.0 */
#include "broker.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ct_macro.h"
#include "fd_passing.h"
#include "privileges.h"
#include "seccomp_policy.h"

#define BROKER_SOCK	 3
#define MAPS_READ_MAX	 (16u << 20) /* a process's maps, read at most this far */
#define MAPS_TRIES	 100	     /* the open is reported before ld.so maps the file: 200 ms */
#define MAPS_RETRY_NS	 (2 * 1000 * 1000)
#define BROKER_ANSWER_MS 2000

struct broker_request {
	uint32_t pid;
	uint32_t wait_for_map; /* a library just opened: ld.so maps it a moment later */
	char path[256];
};

struct broker_reply {
	int32_t error;
	char why[124];
};

/* Does one line of /proc/PID/maps map (dev, ino) executable? An overlayfs file shows the
 * inode of the layer file it is backed by: same inode number, another device. */
static bool line_maps(const char *line, dev_t dev, ino_t ino, bool overlay)
{
	unsigned long long start, end, offset, inode;
	unsigned maj, min;
	char perms[5];

	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu", &start, &end, perms, &offset, &maj, &min,
		   &inode) != 7)
		return false;
	return perms[2] == 'x' && inode == ino &&
	       (overlay || (maj == major(dev) && min == minor(dev)));
}

static int maps_file(int proc_dir, dev_t dev, ino_t ino, bool overlay)
{
	char buf[8192];
	size_t kept = 0, total = 0;
	_cleanup_close_ int fd = openat(proc_dir, "maps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf + kept, sizeof(buf) - 1 - kept);
		char *line = buf, *nl;

		if (n < 0)
			return -errno;
		if (n == 0 || (total += (size_t)n) > MAPS_READ_MAX)
			return -ENOENT;
		kept += (size_t)n;
		buf[kept] = '\0';
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			if (line_maps(line, dev, ino, overlay))
				return 0;
			line = nl + 1;
		}
		kept = strlen(line);
		if (kept == sizeof(buf) - 1)
			kept = 0; /* a line longer than the buffer: a path, not ours */
		memmove(buf, line, kept);
	}
}

static int serve_one(const char *proc_root, const struct broker_request *req, int *ret_fd,
		     char *why, size_t size)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char proc[PATH_MAX];
	_cleanup_close_ int proc_dir = -1, root = -1, fd = -1;
	struct statfs sfs;
	struct stat st;
	int r = -ENOENT;

	/* a relative name is an executable run as ./prog: only its process knows the directory */
	const bool by_exe = req->path[0] != '/' && !req->wait_for_map;

	if (!memchr(req->path, '\0', sizeof(req->path)) || !req->path[0] ||
	    (req->path[0] != '/' && !by_exe) || !req->pid) {
		snprintf(why, size, "malformed request");
		return -EINVAL;
	}
	/* one directory for both looks: a pid reused in between makes them fail, not mix */
	snprintf(proc, sizeof(proc), "%s/%u", proc_root, req->pid);
	proc_dir = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc_dir >= 0)
		root = openat(proc_dir, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc_dir < 0 || root < 0) {
		/* no /proc/PID, or one whose process has exited (a zombie has no root): gone */
		int e = errno == ENOENT ? ESRCH : errno;

		snprintf(why, size, "cannot reach pid %u's root: %s", req->pid, strerror(e));
		return -e;
	}
	/* inside that root: an absolute symlink there means the container's file, not ours */
	if (by_exe)
		fd = openat(proc_dir, "exe", (int)how.flags);
	else
		fd = (int)syscall(SYS_openat2, root, req->path, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS && !by_exe) {
		/* systemd's RestrictSUIDSGID= does this: openat2's flags cannot be filtered */
		snprintf(why, size,
			 "openat2() is refused with ENOSYS (RestrictSUIDSGID= in a systemd "
			 "unit does that)");
		return -ENOSYS;
	}
	if (fd < 0 || fstat(fd, &st) < 0 || fstatfs(fd, &sfs) < 0) {
		snprintf(why, size, "cannot open it in pid %u's root: %s", req->pid,
			 strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, size, "not a regular file");
		return -ENOEXEC;
	}
	/* an executable is mapped by the time its exec is reported: not mapped, it exec'd again */
	for (int k = 0; k < (req->wait_for_map ? MAPS_TRIES : 1) && r == -ENOENT; k++) {
		if (k)
			nanosleep(&(struct timespec){.tv_nsec = MAPS_RETRY_NS}, NULL);
		r = maps_file(proc_dir, st.st_dev, st.st_ino,
			      sfs.f_type == (typeof(sfs.f_type))OVERLAYFS_SUPER_MAGIC);
	}
	if (r < 0) {
		snprintf(why, size, "pid %u does not map it executable%s%s", req->pid,
			 r == -ENOENT ? "" : ": ", r == -ENOENT ? "" : strerror(-r));
		return -EPERM;
	}
	*ret_fd = ct_take_fd(&fd);
	return 0;
}

static void __attribute__((noreturn))
run_broker(int sock, uid_t uid, gid_t gid, const char *proc_root)
{
	int kept = fcntl(sock, F_DUPFD, 64);

	/* nothing of the loader's stays: no program, no map, no listening socket */
	if (kept < 0 || dup2(kept, BROKER_SOCK) < 0 || close_range(BROKER_SOCK + 1, ~0u, 0) < 0)
		_exit(2);
	if (privileges_drop_keeping(uid, gid, CAP_SYS_PTRACE) < 0 ||
	    seccomp_install(broker_rules, broker_rules_count) < 0)
		_exit(2);
	for (;;) {
		struct broker_request req;
		struct broker_reply reply = {};
		ssize_t n = recv(BROKER_SOCK, &req, sizeof(req), 0);
		int fd = -1;

		if (n == 0)
			_exit(0); /* the loader is gone */
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(req))
			_exit(3);
		reply.error = serve_one(proc_root, &req, &fd, reply.why, sizeof(reply.why));
		if (fd_message_send(BROKER_SOCK, &reply, sizeof(reply), fd) < 0)
			_exit(3);
		if (fd >= 0)
			close(fd);
	}
}

int broker_start(uid_t uid, gid_t gid, const char *proc_root, struct broker *ret)
{
	int pair[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pair[0]);
		close(pair[1]);
		return -errno;
	}
	if (pid == 0)
		run_broker(pair[1], uid, gid, proc_root);
	close(pair[1]);
	*ret = (struct broker){.pid = pid, .sock = pair[0]};
	return 0;
}

static int receive_reply(int sock, struct broker_reply *reply, int *ret_fd)
{
	struct pollfd pfd = {.fd = sock, .events = POLLIN};

	*ret_fd = -1;
	if (poll(&pfd, 1, BROKER_ANSWER_MS) <= 0)
		return -ETIMEDOUT;
	return fd_message_recv(sock, reply, sizeof(*reply), MSG_DONTWAIT, ret_fd);
}

int broker_open(struct broker *b, uint32_t pid, const char *path, bool library, int *ret_fd,
		char *why, size_t why_size)
{
	struct broker_request req = {.pid = pid, .wait_for_map = library};
	struct broker_reply reply;
	int fd, r;

	if (!b->pid) {
		snprintf(why, why_size, "no broker");
		return -ENOSYS;
	}
	snprintf(req.path, sizeof(req.path), "%s", path);
	if (send(b->sock, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req) ||
	    (r = receive_reply(b->sock, &reply, &fd)) < 0) {
		/* a broker that does not answer in time is not asked again: answers would pair
		 * with the wrong requests */
		snprintf(why, why_size, "the broker is gone");
		broker_stop(b);
		return -ECONNRESET;
	}
	reply.why[sizeof(reply.why) - 1] = '\0';
	if (reply.error < 0 || fd < 0) {
		if (fd >= 0)
			close(fd);
		snprintf(why, why_size, "%s", reply.why[0] ? reply.why : "refused");
		return reply.error < 0 ? reply.error : -EPROTO;
	}
	*ret_fd = fd;
	return 0;
}

void broker_stop(struct broker *b)
{
	if (!b->pid)
		return;
	close(b->sock);
	kill(b->pid, SIGKILL);
	waitpid(b->pid, NULL, 0);
	b->pid = 0;
	b->sock = -1;
}
