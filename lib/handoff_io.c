/* SPDX-License-Identifier: Apache-2.0 */
#include "handoff_io.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleartap/events.h"
#include "ct_macro.h"

void handoff_fds_init(struct handoff_fds *f)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < CT_MAX_RINGS; i++)
		f->rings[i] = -1;
	f->counters = f->call_limit = f->prog_tls_enter = f->prog_tls_return = -1;
}

void handoff_fds_close(struct handoff_fds *f)
{
	for (size_t i = 0; i < CT_MAX_RINGS; i++)
		ct_closep(&f->rings[i]);
	ct_closep(&f->counters);
	ct_closep(&f->call_limit);
	ct_closep(&f->prog_tls_enter);
	ct_closep(&f->prog_tls_return);
	handoff_fds_init(f);
}

int handoff_send_hello(int sock)
{
	struct cleartap_handoff_hello hello = {
	    .magic = CLEARTAP_HANDOFF_MAGIC,
	    .version = CLEARTAP_HANDOFF_VERSION,
	};
	ssize_t n = send(sock, &hello, sizeof(hello), MSG_NOSIGNAL);

	if (n < 0)
		return -errno;
	return n == sizeof(hello) ? 0 : -EIO;
}

int handoff_recv_hello(int sock)
{
	struct cleartap_handoff_hello hello;
	ssize_t n = recv(sock, &hello, sizeof(hello), MSG_WAITALL);

	if (n < 0)
		return -errno;
	if (n != sizeof(hello) || hello.magic != CLEARTAP_HANDOFF_MAGIC)
		return -EPROTO;
	if (hello.version != CLEARTAP_HANDOFF_VERSION)
		return -EPROTONOSUPPORT;
	return 0;
}

int handoff_send_reply(int sock, const struct cleartap_handoff_reply *reply,
		       const struct cleartap_handoff_fd *descs, const int *fds,
		       const struct cleartap_handoff_attachment *attachments)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * CLEARTAP_HANDOFF_MAX_FDS)];
		struct cmsghdr align;
	} control;
	struct iovec iov[3] = {
	    {.iov_base = (void *)reply, .iov_len = sizeof(*reply)},
	    {.iov_base = (void *)descs, .iov_len = sizeof(*descs) * reply->nfds},
	    {.iov_base = (void *)attachments,
	     .iov_len = sizeof(*attachments) * reply->n_attachments},
	};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 3};
	size_t expected = iov[0].iov_len + iov[1].iov_len + iov[2].iov_len;
	ssize_t n;

	if (reply->nfds > CLEARTAP_HANDOFF_MAX_FDS ||
	    reply->n_attachments > CLEARTAP_HANDOFF_MAX_ATTACHMENTS)
		return -E2BIG;
	if (reply->nfds) {
		struct cmsghdr *cmsg;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * reply->nfds);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * reply->nfds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * reply->nfds);
	}
	n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return (size_t)n == expected ? 0 : -EIO;
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* The rest of a message whose first bytes (and descriptors) were already read. */
static int read_rest(int sock, uint8_t *buf, size_t have, size_t want)
{
	while (have < want) {
		ssize_t n = recv(sock, buf + have, want - have, MSG_WAITALL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPROTO;
		have += (size_t)n;
	}
	return 0;
}

int handoff_recv_reply(int sock, struct cleartap_handoff_reply *ret_reply,
		       struct cleartap_handoff_fd *ret_descs, int *ret_fds, size_t max_fds,
		       struct cleartap_handoff_attachment *ret_attachments)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * CLEARTAP_HANDOFF_MAX_FDS)];
		struct cmsghdr align;
	} control;
	static struct {
		struct cleartap_handoff_reply reply;
		struct cleartap_handoff_fd descs[CLEARTAP_HANDOFF_MAX_FDS];
		struct cleartap_handoff_attachment attachments[CLEARTAP_HANDOFF_MAX_ATTACHMENTS];
	} body;
	struct iovec iov = {.iov_base = &body, .iov_len = sizeof(body)};
	struct msghdr msg = {
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = control.buf,
	    .msg_controllen = sizeof(control.buf),
	};
	int fds[CLEARTAP_HANDOFF_MAX_FDS];
	size_t nfds = 0, want;
	ssize_t n;
	int r;

	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET; /* closed without a reply: a busy loader shed this connection */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (nfds < CT_ARRAY_SIZE(fds))
				fds[nfds++] = fd;
			else
				close(fd);
		}
	}
	r = (msg.msg_flags & MSG_CTRUNC)
		? -EPROTO
		: read_rest(sock, (uint8_t *)&body, (size_t)n, sizeof(body.reply));
	want = sizeof(body.reply) + body.reply.nfds * sizeof(body.descs[0]) +
	       body.reply.n_attachments * sizeof(body.attachments[0]);
	if (r == 0 &&
	    (body.reply.magic != CLEARTAP_HANDOFF_MAGIC ||
	     body.reply.version != CLEARTAP_HANDOFF_VERSION || body.reply.nfds != nfds ||
	     nfds > max_fds || body.reply.n_attachments > CLEARTAP_HANDOFF_MAX_ATTACHMENTS ||
	     (size_t)n > want))
		r = -EPROTO;
	if (r == 0)
		r = read_rest(sock, (uint8_t *)&body, (size_t)n, want);
	if (r == 0 && body.reply.status < 0 && nfds)
		r = -EPROTO;
	if (r < 0) {
		close_all(fds, nfds);
		return r;
	}
	/* attachments follow the nfds descriptors in the message */
	memmove(body.attachments, (uint8_t *)body.descs + nfds * sizeof(body.descs[0]),
		body.reply.n_attachments * sizeof(body.attachments[0]));
	*ret_reply = body.reply;
	memcpy(ret_descs, body.descs, nfds * sizeof(body.descs[0]));
	memcpy(ret_fds, fds, nfds * sizeof(int));
	memcpy(ret_attachments, body.attachments,
	       body.reply.n_attachments * sizeof(body.attachments[0]));
	return 0;
}
