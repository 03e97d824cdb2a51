/* SPDX-License-Identifier: Apache-2.0 */
#include "handoff_server.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cleartap/events.h"
#include "ct_macro.h"
#include "parse_number.h"

#define SD_LISTEN_FDS_START 3

static int make_address(const char *path, struct sockaddr_un *ret_addr)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	*ret_addr = addr;
	return 0;
}

static int make_parent_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int handoff_listen(const char *path, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un addr;
	int r;

	if ((r = make_address(path, &addr)) < 0 || (r = make_parent_dir(path)) < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		_cleanup_close_ int probe = -1;

		if (errno != EADDRINUSE)
			return -errno;
		/* A socket file is there: in use if someone answers, stale otherwise. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe < 0)
			return -errno;
		if (connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			return -EADDRINUSE;
		if (unlink(path) < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			return -errno;
	}
	/* Anyone may connect; who gets descriptors is decided by SO_PEERCRED. */
	if (chmod(path, 0666) < 0 || listen(fd, 128) < 0)
		return -errno;
	*ret_fd = ct_take_fd(&fd);
	return 0;
}

int handoff_listen_from_systemd(int *ret_fd)
{
	const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	int fd = SD_LISTEN_FDS_START, value, type, domain, listening;
	socklen_t len = sizeof(value);
	uint32_t listen_pid, n_fds;

	if (!pid || !n || parse_u32(pid, 1, INT32_MAX, &listen_pid) < 0 ||
	    (pid_t)listen_pid != getpid() || parse_u32(n, 1, 1, &n_fds) < 0)
		return -ENOENT;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return -errno;
	if (type != SOCK_STREAM || domain != AF_UNIX || !listening)
		return -ENOTSOCK;
	value = fcntl(fd, F_GETFL);
	if (value < 0 || fcntl(fd, F_SETFL, value | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

static uint32_t object_id(int fd)
{
	/* bpf_prog_info and bpf_map_info both start with type, id. */
	struct {
		uint32_t type;
		uint32_t id;
		uint8_t rest[256];
	} info = {};
	uint32_t len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ? 0 : info.id;
}

static int add_fd(struct handoff_server *s, uint32_t kind, uint32_t index, int fd)
{
	uint32_t id = object_id(fd);

	if (!id)
		return -EBADF;
	s->descs[s->reply.nfds] =
	    (struct cleartap_handoff_fd){.kind = kind, .index = index, .bpf_id = id};
	s->fds[s->reply.nfds++] = fd;
	return 0;
}

int handoff_server_init(struct handoff_server *s, int listen_fd, const struct handoff_fds *fds,
			const struct cleartap_handoff_attachment *attachments, size_t n_attachments,
			const uid_t *uids, size_t n_uids, const gid_t *gids, size_t n_gids,
			void (*on_event)(void *, const struct handoff_event *), void *userdata)
{
	int r = 0;

	if (n_uids > HANDOFF_MAX_ALLOWED || n_gids > HANDOFF_MAX_ALLOWED ||
	    n_attachments > CLEARTAP_HANDOFF_MAX_ATTACHMENTS)
		return -E2BIG;
	memset(s, 0, sizeof(*s));
	s->listen_fd = listen_fd;
	s->reader.fd = -1;
	s->reply = (struct cleartap_handoff_reply){
	    .magic = CLEARTAP_HANDOFF_MAGIC,
	    .version = CLEARTAP_HANDOFF_VERSION,
	    .schema_version = CLEARTAP_SCHEMA_VERSION,
	    .ring_size = fds->ring_size,
	    .max_call_bytes = fds->max_call_bytes,
	    .n_attachments = (uint16_t)n_attachments,
	    .kernel_features = (uint16_t)fds->kernel_features,
	    .counter_rows = (uint16_t)fds->counter_rows,
	};
	memcpy(s->attachments, attachments, n_attachments * sizeof(*attachments));
	for (uint32_t i = 0; r == 0 && i < fds->n_rings; i++)
		r = add_fd(s, CLEARTAP_FD_RING, i, fds->rings[i]);
	if (r == 0)
		r = add_fd(s, CLEARTAP_FD_COUNTERS, 0, fds->counters);
	/* never the programs: holding one is the power to attach it */
	memcpy(s->allowed_uids, uids, n_uids * sizeof(*uids));
	s->n_allowed_uids = n_uids;
	memcpy(s->allowed_gids, gids, n_gids * sizeof(*gids));
	s->n_allowed_gids = n_gids;
	s->on_event = on_event;
	s->userdata = userdata;
	return r;
}

int handoff_server_add_file(struct handoff_server *s, enum cleartap_handoff_kind kind, int fd)
{
	if (s->reply.nfds >= CLEARTAP_HANDOFF_MAX_FDS)
		return -E2BIG;
	s->descs[s->reply.nfds] = (struct cleartap_handoff_fd){.kind = kind};
	s->fds[s->reply.nfds++] = fd;
	return 0;
}

static bool authorised(const struct handoff_server *s, uid_t uid, gid_t gid)
{
	if (uid == 0)
		return true;
	for (size_t i = 0; i < s->n_allowed_uids; i++)
		if (s->allowed_uids[i] == uid)
			return true;
	for (size_t i = 0; i < s->n_allowed_gids; i++)
		if (s->allowed_gids[i] == gid)
			return true;
	return false;
}

static void emit(struct handoff_server *s, enum handoff_event_kind kind,
		 const struct handoff_client *c, int error)
{
	struct handoff_event e = {.kind = kind, .error = error};

	if (c) {
		e.pid = c->pid;
		e.uid = c->uid;
		e.gid = c->gid;
	}
	if (s->reader.fd >= 0) {
		e.holder_pid = s->reader.pid;
		e.holder_uid = s->reader.uid;
	}
	if (s->on_event)
		s->on_event(s->userdata, &e);
}

static void drop_client(struct handoff_server *s, size_t i)
{
	close(s->clients[i].fd);
	s->clients[i] = s->clients[--s->n_clients];
}

static size_t waiting_for_uid(const struct handoff_server *s, uid_t uid)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_clients; i++)
		n += s->clients[i].uid == uid;
	return n;
}

static void refuse(struct handoff_server *s, const struct handoff_client *c, int status)
{
	struct cleartap_handoff_reply refusal = s->reply;

	refusal.nfds = 0;
	refusal.n_attachments = 0;
	refusal.status = status;
	handoff_send_reply(c->fd, &refusal, s->descs, s->fds, s->attachments);
	emit(s, status == -EBUSY ? HANDOFF_BUSY : HANDOFF_REFUSED, c, status);
}

static void accept_clients(struct handoff_server *s)
{
	/* Bounded per wake-up so a flood cannot starve the clients already waiting. */
	for (int k = 0; k < 2 * HANDOFF_MAX_CLIENTS; k++) {
		struct handoff_client c = {};
		struct ucred cred;
		socklen_t len = sizeof(cred);

		c.fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c.fd < 0)
			return; /* EAGAIN, or a client that left already */
		if (getsockopt(c.fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			close(c.fd);
			continue;
		}
		c.pid = cred.pid;
		c.uid = cred.uid;
		c.gid = cred.gid;
		if (!authorised(s, c.uid, c.gid)) {
			/* Told at once, hello or not: refused peers never hold a waiting slot. */
			refuse(s, &c, -EACCES);
			close(c.fd);
			continue;
		}
		/* One uid cannot take every slot (root is trusted anyway). */
		if (s->n_clients == HANDOFF_MAX_CLIENTS ||
		    (c.uid != 0 && waiting_for_uid(s, c.uid) >= HANDOFF_MAX_PER_UID)) {
			emit(s, HANDOFF_TOO_MANY, &c, 0);
			close(c.fd);
			continue;
		}
		c.deadline_ms = ct_monotonic_ms() + HANDOFF_CLIENT_TIMEOUT_MS;
		s->clients[s->n_clients++] = c;
	}
}

/*
 * Returns true when the client is finished (refused or failed); a served one becomes the reader
 * (*ret_reader) and keeps its connection.
 */
static bool read_hello(struct handoff_server *s, struct handoff_client *c, bool *ret_reader)
{
	const struct cleartap_handoff_hello *hello = (const void *)c->hello;
	ssize_t n = recv(c->fd, c->hello + c->got, sizeof(c->hello) - c->got, 0);
	int r;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n <= 0) {
		emit(s, HANDOFF_IO_ERROR, c, n < 0 ? -errno : -ECONNRESET);
		return true;
	}
	c->got += (size_t)n;
	if (c->got < sizeof(c->hello))
		return false;
	if (hello->magic != CLEARTAP_HANDOFF_MAGIC || hello->version != CLEARTAP_HANDOFF_VERSION) {
		emit(s, HANDOFF_BAD_HELLO, c,
		     hello->magic != CLEARTAP_HANDOFF_MAGIC ? -EPROTO : -EPROTONOSUPPORT);
		return true;
	}
	if (s->reader.fd >= 0) {
		refuse(s, c, -EBUSY);
		return true;
	}
	/* The reply is far smaller than a socket buffer: one non-blocking send suffices. */
	r = handoff_send_reply(c->fd, &s->reply, s->descs, s->fds, s->attachments);
	emit(s, r < 0 ? HANDOFF_IO_ERROR : HANDOFF_SERVED, c, r);
	*ret_reader = r == 0;
	return true;
}

void handoff_server_on_request(struct handoff_server *s,
			       void (*on_request)(void *,
						  const struct cleartap_handoff_attach_request *,
						  struct cleartap_handoff_attachment *),
			       void *userdata)
{
	s->on_request = on_request;
	s->request_userdata = userdata;
}

static void end_lease(struct handoff_server *s, enum handoff_event_kind why, int error)
{
	emit(s, why, &s->reader, error);
	close(s->reader.fd);
	s->reader.fd = -1;
	s->request_got = 0;
}

/*
 * The reader's connection carries its attach requests, answered in order, and its close ends
 * the lease (the rings are free again). One request per wake-up: a busy reader cannot starve
 * the clients waiting for a refusal.
 */
static void watch_reader(struct handoff_server *s, short revents)
{
	const struct cleartap_handoff_attach_request *req = (const void *)s->request;
	struct cleartap_handoff_attach_answer answer = {.magic = CLEARTAP_ATTACH_ANSWER_MAGIC};
	ssize_t n;

	if (!revents)
		return;
	n = recv(s->reader.fd, s->request + s->request_got, sizeof(s->request) - s->request_got,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		end_lease(s, HANDOFF_RELEASED, 0);
		return;
	}
	s->request_got += (size_t)n;
	if (s->request_got < sizeof(s->request))
		return;
	s->request_got = 0;
	if (req->magic != CLEARTAP_ATTACH_REQUEST_MAGIC || !s->on_request) {
		end_lease(s, HANDOFF_BAD_REQUEST, -EPROTO);
		return;
	}
	answer.pid = req->pid;
	s->on_request(s->request_userdata, req, &answer.attachment);
	/* A reader keeps at most CLEARTAP_HANDOFF_MAX_IN_FLIGHT requests unanswered, far less than
	 * a socket buffer holds: one that does not read its answers loses its lease. */
	n = send(s->reader.fd, &answer, sizeof(answer), MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
		end_lease(s, HANDOFF_RELEASED, 0); /* it exited with requests unanswered */
	else if (n != (ssize_t)sizeof(answer))
		end_lease(s, HANDOFF_BAD_REQUEST, n < 0 ? -errno : -EAGAIN);
}

size_t handoff_server_pollfds(const struct handoff_server *s, struct pollfd *pfds,
			      int *ret_timeout_ms)
{
	uint64_t now = ct_monotonic_ms();
	int timeout = -1;

	pfds[0] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
	for (size_t i = 0; i < s->n_clients; i++) {
		int left =
		    s->clients[i].deadline_ms > now ? (int)(s->clients[i].deadline_ms - now) : 0;

		pfds[1 + i] = (struct pollfd){.fd = s->clients[i].fd, .events = POLLIN};
		if (timeout < 0 || left < timeout)
			timeout = left;
	}
	*ret_timeout_ms = timeout;
	/* last, and -1 when there is no reader: poll() ignores negative fds */
	pfds[1 + s->n_clients] = (struct pollfd){.fd = s->reader.fd, .events = POLLIN};
	return 2 + s->n_clients;
}

void handoff_server_process(struct handoff_server *s, const struct pollfd *pfds, size_t n)
{
	uint64_t now = ct_monotonic_ms();

	/* A reader that exited frees the rings before the next hello is answered. */
	if (s->reader.fd >= 0 && pfds[n - 1].fd == s->reader.fd)
		watch_reader(s, pfds[n - 1].revents);
	/* Clients next, from the back, so dropping one does not move an unvisited one. */
	for (size_t i = n - 2; i >= 1; i--) {
		struct handoff_client *c = &s->clients[i - 1];
		bool done = false, reader = false;

		if (pfds[i].revents)
			done = read_hello(s, c, &reader);
		if (!done && now >= c->deadline_ms) {
			emit(s, HANDOFF_TIMED_OUT, c, 0);
			done = true;
		}
		if (reader) {
			s->reader = *c;
			s->clients[i - 1] = s->clients[--s->n_clients];
		} else if (done) {
			drop_client(s, i - 1);
		}
	}
	if (pfds[0].revents & POLLIN)
		accept_clients(s);
}

void handoff_server_close_clients(struct handoff_server *s)
{
	ct_closep(&s->reader.fd);
	s->reader.fd = -1;
	while (s->n_clients)
		drop_client(s, s->n_clients - 1);
}
