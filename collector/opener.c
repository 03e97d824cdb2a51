/* SPDX-License-Identifier: Apache-2.0 */
#include "opener.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "config_file.h"
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

#define REQUEST_PROTO  'p'
#define REQUEST_LOADER 'l'
#define REQUEST_SINK   's'
#define REQUEST_CONFIG 'c'

int unix_socket_connect(const char *path, int timeout_option, int timeout_s)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct timeval timeout = {.tv_sec = timeout_s};
	_cleanup_close_ int fd = -1;

	if (!path)
		return -ENOENT;
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, timeout_option, &timeout, sizeof(timeout)) < 0)
		return -errno;
	return ct_take_fd(&fd);
}

static int open_named(const struct opener_names *names, char request)
{
	switch (request) {
	case REQUEST_LOADER: /* the collector reads its reply blocking: bounded here */
		return unix_socket_connect(names->loader, SO_RCVTIMEO, REPLY_TIMEOUT_S);
	case REQUEST_SINK:
		return unix_socket_connect(names->sink, SO_SNDTIMEO, SINK_SEND_TIMEOUT_S);
	case REQUEST_CONFIG:
		return names->config ? config_file_open(names->config) : -ENOENT;
	case REQUEST_PROTO:
		return names->proto_file ? proto_file_open(names->proto_file) : -ENOENT;
	default:
		return -EINVAL;
	}
}

static __attribute__((noreturn)) void child_main(const struct opener_names *names)
{
	char request;

	while (read(CHILD_SOCKET, &request, 1) == 1) {
		int fd = open_named(names, request);
		int error = fd < 0 ? -fd : 0;

		/* the error (0 or errno) as data, the descriptor (when 0) alongside */
		(void)fd_message_send(CHILD_SOCKET, &error, sizeof(error), fd);
		if (fd >= 0)
			close(fd);
	}
	_exit(0);
}

int opener_start(const struct opener_names *names, struct opener *ret)
{
	struct timeval timeout = {.tv_sec = REPLY_TIMEOUT_S};
	_cleanup_close_ int ours = -1, theirs = -1;
	int pair[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return -errno;
	ours = pair[0];
	theirs = pair[1];
	if (setsockopt(ours, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0 ||
	    (pid = fork()) < 0)
		return -errno;
	if (pid == 0) {
		/* nothing of the collector's but the socket: no ring, no stdout, no lease */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || dup2(theirs, CHILD_SOCKET) < 0 ||
		    close_range(0, CHILD_SOCKET - 1, 0) < 0 ||
		    close_range(CHILD_SOCKET + 1, ~0U, 0) < 0 ||
		    seccomp_install(opener_rules, opener_rules_count) < 0)
			_exit(127);
		child_main(names);
	}
	*ret = (struct opener){.fd = ct_take_fd(&ours)};
	return 0;
}

static int ask(struct opener *o, char request)
{
	int error, fd, r;

	if (o->fd < 0 || write(o->fd, &request, 1) != 1)
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

int opener_open_proto(struct opener *o)
{
	return ask(o, REQUEST_PROTO);
}

int opener_open_config(struct opener *o)
{
	return ask(o, REQUEST_CONFIG);
}

int opener_connect_sink(struct opener *o)
{
	return ask(o, REQUEST_SINK);
}

int opener_connect_loader(struct opener *o)
{
	return ask(o, REQUEST_LOADER);
}

void opener_stop(struct opener *o)
{
	ct_closep(&o->fd);
	o->fd = -1;
}
