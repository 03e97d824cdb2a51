/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_LOADER_HANDOFF_SERVER_H
#define CT_LOADER_HANDOFF_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "objects.h"

/*
 * Create the listening socket at path (parent directory made 0755). A stale socket file is
 * replaced; -EADDRINUSE when a live server answers there. Returns 0 and the fd, or -errno.
 */
int handoff_listen(const char *path, int *ret_fd);

struct handoff_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool authorised;
};

/*
 * Accept one collector, check its SO_PEERCRED uid against allowed_uids (root is always allowed),
 * read its hello and send it the objects' descriptors (or a refusal). A peer that stalls is cut
 * off after a short timeout. Returns 0 with *ret_peer filled, or -errno for this peer only.
 */
int handoff_serve_one(int listen_fd, const struct objects *objects, const uid_t *allowed_uids,
		      size_t n_allowed, struct handoff_peer *ret_peer);

#endif
