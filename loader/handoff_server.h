/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The loader's handoff server: non-blocking, one poll loop, so a client that stalls, sends
 * garbage or arrives with a thousand others neither crashes nor blocks it. Peers that are not
 * allowed are refused at accept. Each other client gets one short deadline; at most
 * HANDOFF_MAX_CLIENTS wait at once, HANDOFF_MAX_PER_UID per uid; the rest are closed at once.
 */
#ifndef CT_LOADER_HANDOFF_SERVER_H
#define CT_LOADER_HANDOFF_SERVER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cleartap/handoff.h"
#include "handoff_io.h"

#define HANDOFF_MAX_CLIENTS	  64
#define HANDOFF_MAX_PER_UID	  4
#define HANDOFF_CLIENT_TIMEOUT_MS 1000
#define HANDOFF_MAX_ALLOWED	  16

/*
 * Create the listening socket at path (parent directory made 0755). A stale socket file is
 * replaced; -EADDRINUSE when a live server answers there. Returns 0 and the fd, or -errno.
 */
int handoff_listen(const char *path, int *ret_fd);

/*
 * The listening socket passed by systemd socket activation (LISTEN_PID/LISTEN_FDS), checked to
 * be a listening AF_UNIX stream socket. -ENOENT when not socket-activated.
 */
int handoff_listen_from_systemd(int *ret_fd);

enum handoff_event_kind {
	HANDOFF_SERVED,	   /* descriptors sent */
	HANDOFF_REFUSED,   /* uid/gid not allowed: told so, no descriptors */
	HANDOFF_BAD_HELLO, /* garbage or wrong version */
	HANDOFF_TIMED_OUT, /* no hello within HANDOFF_CLIENT_TIMEOUT_MS */
	HANDOFF_TOO_MANY,  /* closed at once: HANDOFF_MAX_CLIENTS already waiting */
	HANDOFF_IO_ERROR,  /* the client went away or could not take the reply */
	HANDOFF_BUSY,	   /* refused: another collector reads the rings (pid/uid of the holder) */
	HANDOFF_RELEASED,  /* the collector that read the rings closed its connection (exited) */
	HANDOFF_BAD_REQUEST, /* the reader sent garbage, or more than CLEARTAP_HANDOFF_MAX_IN_FLIGHT
			      * unanswered requests: its lease ends */
};

struct handoff_event {
	enum handoff_event_kind kind;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int error;	  /* -errno for HANDOFF_BAD_HELLO / HANDOFF_IO_ERROR */
	pid_t holder_pid; /* the collector that reads the rings (0: none) */
	uid_t holder_uid;
};

struct handoff_client {
	int fd;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	uint64_t deadline_ms;
	uint8_t hello[sizeof(struct cleartap_handoff_hello)];
	size_t got;
};

struct handoff_server {
	int listen_fd;
	struct cleartap_handoff_reply reply;
	struct cleartap_handoff_fd descs[CLEARTAP_HANDOFF_MAX_FDS];
	int fds[CLEARTAP_HANDOFF_MAX_FDS];
	struct cleartap_handoff_attachment attachments[CLEARTAP_HANDOFF_MAX_ATTACHMENTS];
	uid_t allowed_uids[HANDOFF_MAX_ALLOWED];
	size_t n_allowed_uids;
	gid_t allowed_gids[HANDOFF_MAX_ALLOWED];
	size_t n_allowed_gids;
	struct handoff_client clients[HANDOFF_MAX_CLIENTS];
	size_t n_clients;
	/*
	 * One reader per ring set: the served collector keeps its connection open, and while it
	 * does, other collectors are refused with -EBUSY (two readers would split the records).
	 */
	struct handoff_client reader; /* fd -1: none */
	uint8_t request[sizeof(struct cleartap_handoff_attach_request)];
	size_t request_got;
	void (*on_request)(void *userdata, const struct cleartap_handoff_attach_request *request,
			   struct cleartap_handoff_attachment *ret_answer);
	void *request_userdata;
	void (*on_event)(void *userdata, const struct handoff_event *event);
	void *userdata;
};

/*
 * Prepare the reply once (object ids are read now, so serving needs no bpf() call later). Root
 * (uid 0) is always allowed; so are the given uids and gids. The server does not own fds.
 */
int handoff_server_init(struct handoff_server *s, int listen_fd, const struct handoff_fds *fds,
			const struct cleartap_handoff_attachment *attachments, size_t n_attachments,
			const uid_t *uids, size_t n_uids, const gid_t *gids, size_t n_gids,
			void (*on_event)(void *, const struct handoff_event *), void *userdata);

/* Hand every collector this file too (kind: the process snapshot, the container log links);
 * the caller keeps it open. */
int handoff_server_add_file(struct handoff_server *s, enum cleartap_handoff_kind kind, int fd);

/* Serve the reader's attach requests with on_request(userdata, ...); without it, a request
 * ends the lease. */
void handoff_server_on_request(struct handoff_server *s,
			       void (*on_request)(void *,
						  const struct cleartap_handoff_attach_request *,
						  struct cleartap_handoff_attachment *),
			       void *userdata);

/* Fill pfds (room for 2 + HANDOFF_MAX_CLIENTS); returns how many, and the poll timeout. */
size_t handoff_server_pollfds(const struct handoff_server *s, struct pollfd *pfds,
			      int *ret_timeout_ms);

/* Act on what poll() reported for the pollfds just filled. */
void handoff_server_process(struct handoff_server *s, const struct pollfd *pfds, size_t n);

void handoff_server_close_clients(struct handoff_server *s);

#endif
