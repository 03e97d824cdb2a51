/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_HANDOFF_CLIENT_H
#define CT_HANDOFF_CLIENT_H

#include <stdint.h>

#define CT_MAX_RINGS 32

/* Descriptors received from the loader, each checked against what it claims to be. */
struct handoff_objects {
	int rings[CT_MAX_RINGS];
	uint32_t n_rings;
	int counters;
	uint32_t n_counters; /* entries of the counters map */
	int prog_tls_enter;
	int prog_tls_return;
	uint32_t ring_size;
	uint32_t max_call_bytes;
};

/*
 * Connect to the loader at socket_path (retrying for up to wait_ms while it is not there yet),
 * and receive and check its descriptors. -EACCES when the loader refuses this uid, -EPROTO on a
 * malformed reply, -EBADF when a descriptor is not the object it is said to be.
 */
int handoff_fetch(const char *socket_path, unsigned wait_ms, struct handoff_objects *ret);

void handoff_objects_close(struct handoff_objects *objects);

#endif
