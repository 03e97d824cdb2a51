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
#include "fd_passing.h"
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

static __attribute__((noreturn)) void child_main(const char *path)
{
	char request;

	while (read(CHILD_SOCKET, &request, 1) == 1) {
		int fd = proto_file_open(path);

		int error = fd < 0 ? -fd : 0;

		/* the error (0 or errno) as data, the descriptor (when 0) alongside */
		(void)fd_message_send(CHILD_SOCKET, &error, sizeof(error), fd);
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
	int error, fd, r;

	if (o->fd < 0 || write(o->fd, "o", 1) != 1)
		return -EPIPE;
	r = fd_message_recv(o->fd, &error, sizeof(error), 0, &fd);
	if (r < 0)
		return r == -EAGAIN ? -ETIMEDOUT : -EPIPE;
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
