/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_HANDOFF_CLIENT_H
#define CT_HANDOFF_CLIENT_H

#include <stdint.h>

#include "handoff_io.h"

/*
 * Descriptors received from the loader, each checked to be a BPF map; ring_reader.h and
 * kernel_counters.h check the rest when they map them (without bpf()).
 */
struct handoff_objects {
	struct handoff_fds fds;
	uint32_t ring_ids[CT_MAX_RINGS], counters_id; /* the maps' ids: a later lease is checked */
	struct cleartap_handoff_attachment attachments[CLEARTAP_HANDOFF_MAX_ATTACHMENTS];
	size_t n_attachments;  /* what the loader probed, or could not */
	int lease_fd;	       /* the handoff connection, kept: one reader per ring set */
	int processes_fd;      /* the loader's process snapshot (sealed memfd), -1 if none */
	int container_logs_fd; /* kubelet's container log links (a directory), -1 if none */
};

/*
 * Connect to the loader at socket_path (retrying for up to wait_ms while it is not there yet),
 * and receive and check its descriptors. -EACCES when the loader refuses this uid, -EPROTO on a
 * malformed reply, -EBADF when a descriptor is not the object it is said to be.
 */
int handoff_fetch(const char *socket_path, unsigned wait_ms, struct handoff_objects *ret);

/*
 * A lease from a restarted loader on sock (connected): its rings must be the ones held (their
 * ids); the descriptors it sends are closed, the ones held stay. 0: the lease is sock's now,
 * and held's attachments are the new loader's start-up report (files that appeared while it
 * was gone among them). -EBUSY: it serves another collector; -ESTALE: other rings (it was
 * unloaded and loaded anew).
 */
int handoff_relet(int sock, struct handoff_objects *held);

void handoff_objects_close(struct handoff_objects *objects);

#endif
