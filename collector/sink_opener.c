/* SPDX-License-Identifier: Apache-2.0 */
#include "sink_opener.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "ct_macro.h"
#include "seccomp_filter.h"
#include "seccomp_policy.h"

#define CHILD_SOCKET	3
#define REPLY_TIMEOUT_S 2

int proto_file_open(const char *path)
{
	_cleanup_close_ int fd =
	    open(path, PROTO_FILE_FLAGS, 0640); /* O_NONBLOCK: a FIFO there cannot block us */
	struct stat st;

	if (fd < 0)
		return errno == ELOOP ? -ELOOP : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	return ct_take_fd(&fd);
}

/* One answer: the error (0 or errno) as data, the descriptor (when 0) alongside. */
static void answer(int fd, int error)
{
	char control[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = {.iov_base = &error, .iov_len = sizeof(error)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (!error) {
		struct cmsghdr *cmsg;

		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	(void)sendmsg(CHILD_SOCKET, &msg, MSG_NOSIGNAL);
}

static __attribute__((noreturn)) void child_main(const char *path)
{
	char request;

	while (read(CHILD_SOCKET, &request, 1) == 1) {
		int fd = proto_file_open(path);

		answer(fd, fd < 0 ? -fd : 0);
		if (fd >= 0)
			close(fd);
	}
	_exit(0);
}

int sink_opener_start(const char *path, struct sink_opener *ret)
{
	struct timeval timeout = {.tv_sec = REPLY_TIMEOUT_S};
	int pair[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return -errno;
	if (setsockopt(pair[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0) {
		int r = -errno;

		close(pair[0]);
		close(pair[1]);
		return r;
	}
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		close(pair[0]);
		close(pair[1]);
		return r;
	}
	if (pid == 0) {
		/* nothing of the collector's but the socket: no ring, no stdout, no lease */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || dup2(pair[1], CHILD_SOCKET) < 0 ||
		    close_range(0, CHILD_SOCKET - 1, 0) < 0 ||
		    close_range(CHILD_SOCKET + 1, ~0U, 0) < 0 ||
		    seccomp_install(sink_opener_rules, sink_opener_rules_count) < 0)
			_exit(127);
		child_main(path);
	}
	close(pair[1]);
	*ret = (struct sink_opener){.fd = pair[0], .pid = pid};
	return 0;
}

int sink_opener_reopen(struct sink_opener *o)
{
	char control[CMSG_SPACE(sizeof(int))] = {};
	int error = EPIPE, fd = -1;
	struct iovec iov = {.iov_base = &error, .iov_len = sizeof(error)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control,
			     .msg_controllen = sizeof(control)};
	struct cmsghdr *cmsg;
	ssize_t n;

	if (o->fd < 0)
		return -EPIPE;
	if (write(o->fd, "o", 1) != 1)
		return -EPIPE;
	n = recvmsg(o->fd, &msg, MSG_CMSG_CLOEXEC);
	if (n != sizeof(error))
		return n < 0 && errno == EAGAIN ? -ETIMEDOUT : -EPIPE;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
	    cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	if (error) {
		if (fd >= 0)
			close(fd);
		return -error;
	}
	return fd >= 0 ? fd : -EPROTO;
}

void sink_opener_stop(struct sink_opener *o)
{
	ct_closep(&o->fd);
	o->fd = -1;
}
