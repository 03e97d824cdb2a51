/* SPDX-License-Identifier: Apache-2.0 */
#include "handoff_client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cleartap/events.h"
#include "cleartap/handoff.h"
#include "ct_macro.h"
#include "handoff_io.h"

void handoff_objects_close(struct handoff_objects *o)
{
	handoff_fds_close(&o->fds);
	ct_closep(&o->lease_fd); /* the loader may serve another collector now */
	o->lease_fd = -1;
	ct_closep(&o->processes_fd);
	o->processes_fd = -1;
	ct_closep(&o->container_logs_fd);
	o->container_logs_fd = -1;
}

static int connect_with_retry(const char *path, unsigned wait_ms, int *ret_fd)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct timespec pause = {.tv_nsec = 100 * 1000 * 1000};

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	for (unsigned waited = 0;; waited += 100) {
		_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
			*ret_fd = ct_take_fd(&fd);
			return 0;
		}
		if ((errno != ENOENT && errno != ECONNREFUSED) || waited >= wait_ms)
			return -errno;
		nanosleep(&pause, NULL);
	}
}

/* "anon_inode:bpf-map" or "anon_inode:bpf-prog": what a received descriptor is. */
static int bpf_fd_class(int fd, const char *want)
{
	char link[64], target[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	return strcmp(target, want) == 0 ? 0 : -EBADF;
}

/* A file nobody can change any more, of whole process records. */
static int check_snapshot(int fd)
{
	const int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;
	struct stat st;
	int have;

	if (fstat(fd, &st) < 0)
		return -errno;
	have = fcntl(fd, F_GET_SEALS);
	if (!S_ISREG(st.st_mode) || have < 0 || (have & seals) != seals ||
	    st.st_size % sizeof(struct cleartap_proc))
		return -EBADF;
	return 0;
}

static int adopt(struct handoff_objects *o, const struct cleartap_handoff_reply *reply,
		 const struct cleartap_handoff_fd *descs, int *fds)
{
	uint64_t seen_rings = 0;

	for (uint16_t i = 0; i < reply->nfds; i++) {
		const struct cleartap_handoff_fd *d = &descs[i];
		int r;

		switch (d->kind) {
		case CLEARTAP_FD_RING:
			if (d->index >= CT_MAX_RINGS || (seen_rings & (1ULL << d->index)))
				return -EPROTO;
			/* its type and size are checked where it is mapped (ring_reader.h) */
			if ((r = bpf_fd_class(fds[i], "anon_inode:bpf-map")) < 0)
				return r;
			seen_rings |= 1ULL << d->index;
			o->fds.rings[d->index] = fds[i];
			o->ring_ids[d->index] = d->bpf_id;
			break;
		case CLEARTAP_FD_COUNTERS:
			if (o->fds.counters >= 0)
				return -EPROTO;
			if ((r = bpf_fd_class(fds[i], "anon_inode:bpf-map")) < 0)
				return r;
			o->fds.counters = fds[i];
			o->counters_id = d->bpf_id;
			break;
		case CLEARTAP_FD_PROCESSES:
			if (o->processes_fd >= 0)
				return -EPROTO;
			if ((r = check_snapshot(fds[i])) < 0)
				return r;
			o->processes_fd = fds[i];
			break;
		case CLEARTAP_FD_CONTAINER_LOGS: {
			struct stat st;

			if (o->container_logs_fd >= 0)
				return -EPROTO;
			if (fstat(fds[i], &st) < 0 || !S_ISDIR(st.st_mode))
				return -EBADF;
			o->container_logs_fd = fds[i];
			break;
		}
		default:
			close(fds[i]); /* a newer loader's object this collector does not use: never
					* kept, so no program fd outlives the handoff */
			break;
		}
		fds[i] = -1;
	}
	/* Rings must be 0..n-1 without holes. */
	while (o->fds.n_rings < CT_MAX_RINGS && (seen_rings & (1ULL << o->fds.n_rings)))
		o->fds.n_rings++;
	if (o->fds.n_rings == 0 || seen_rings != ((1ULL << o->fds.n_rings) - 1) ||
	    o->fds.counters < 0)
		return -EPROTO;
	return 0;
}

static int fetch_once(const char *socket_path, unsigned wait_ms, struct handoff_objects *ret)
{
	struct cleartap_handoff_fd descs[CLEARTAP_HANDOFF_MAX_FDS];
	int fds[CLEARTAP_HANDOFF_MAX_FDS];
	struct cleartap_handoff_reply reply;
	struct handoff_objects o = {.lease_fd = -1, .processes_fd = -1, .container_logs_fd = -1};
	_cleanup_close_ int sock = -1;
	int r, hello_r;

	handoff_fds_init(&o.fds);
	if ((r = connect_with_retry(socket_path, wait_ms, &sock)) < 0)
		return r;
	/* A refusal can come before the hello is even sent (EPIPE then): read it anyway. */
	hello_r = handoff_send_hello(sock);
	r = handoff_recv_reply(sock, &reply, descs, fds, CLEARTAP_HANDOFF_MAX_FDS, o.attachments);
	if (r < 0)
		return hello_r < 0 ? hello_r : r;
	if (reply.status < 0)
		return reply.status;
	if (reply.schema_version != CLEARTAP_SCHEMA_VERSION) {
		r = -EPROTONOSUPPORT;
	} else {
		o.fds.ring_size = reply.ring_size;
		o.fds.max_call_bytes = reply.max_call_bytes;
		o.fds.kernel_features = reply.kernel_features;
		o.fds.counter_rows = reply.counter_rows;
		o.n_attachments = reply.n_attachments;
		r = adopt(&o, &reply, descs, fds);
	}
	for (uint16_t i = 0; i < reply.nfds; i++)
		ct_closep(&fds[i]);
	if (r < 0) {
		handoff_objects_close(&o);
		return r;
	}
	o.lease_fd = ct_take_fd(&sock); /* held open: while it is, the rings are ours alone */
	*ret = o;
	return 0;
}

int handoff_relet(int sock, struct handoff_objects *held)
{
	static struct cleartap_handoff_attachment attachments[CLEARTAP_HANDOFF_MAX_ATTACHMENTS];
	struct cleartap_handoff_fd descs[CLEARTAP_HANDOFF_MAX_FDS];
	int fds[CLEARTAP_HANDOFF_MAX_FDS];
	struct cleartap_handoff_reply reply;
	uint32_t rings = 0;
	bool same;
	int hello_r, r;

	hello_r = handoff_send_hello(sock);
	r = handoff_recv_reply(sock, &reply, descs, fds, CLEARTAP_HANDOFF_MAX_FDS, attachments);
	if (r < 0)
		return hello_r < 0 ? hello_r : r;
	if (reply.status < 0)
		return reply.status;
	same = reply.schema_version == CLEARTAP_SCHEMA_VERSION;
	/* the ids say which maps these are (the descriptors are not kept, so not checked) */
	for (uint16_t i = 0; i < reply.nfds; i++) {
		const struct cleartap_handoff_fd *d = &descs[i];

		if (d->kind == CLEARTAP_FD_RING) {
			same &=
			    d->index < held->fds.n_rings && held->ring_ids[d->index] == d->bpf_id;
			rings++;
		} else if (d->kind == CLEARTAP_FD_COUNTERS) {
			same &= d->bpf_id == held->counters_id;
		}
		ct_closep(&fds[i]);
	}
	if (!same || rings != held->fds.n_rings)
		return -ESTALE;
	memcpy(held->attachments, attachments, sizeof(attachments[0]) * reply.n_attachments);
	held->n_attachments = reply.n_attachments;
	return 0;
}

int handoff_fetch(const char *socket_path, unsigned wait_ms, struct handoff_objects *ret)
{
	struct timespec pause = {.tv_nsec = 100 * 1000 * 1000};

	for (unsigned waited = 0;; waited += 100) {
		int r = fetch_once(socket_path, wait_ms > waited ? wait_ms - waited : 0, ret);

		/* A busy loader closes surplus connections, and a collector being replaced may not
		 * have let go yet (-EBUSY): try again while time is left. */
		if ((r != -ECONNRESET && r != -EPIPE && r != -EBUSY) || waited >= wait_ms)
			return r;
		nanosleep(&pause, NULL);
	}
}
