/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_HANDOFF_IO_H
#define CT_HANDOFF_IO_H

#include <stddef.h>
#include <stdint.h>

#include "cleartap/handoff.h"

#define CT_MAX_RINGS 32 /* plus 3 more fds must fit CLEARTAP_HANDOFF_MAX_FDS */

/* The descriptors the loader holds; it hands over the rings and the counters. */
struct handoff_fds {
	int rings[CT_MAX_RINGS];
	uint32_t n_rings;
	int counters;
	uint32_t counter_rows;	  /* of CLEARTAP_COUNTER_STRIDE counters each, one per CPU */
	int call_limit;		  /* the loader's alone: the collector asks, the loader sets it */
	int prog_tls_enter;	  /* the loader's alone: never handed over */
	int prog_tls_return;	  /* the loader's alone: never handed over */
	uint32_t ring_size;	  /* bytes per ring shard */
	uint32_t max_call_bytes;  /* per-call capture cap of the loaded programs */
	uint32_t kernel_features; /* enum cleartap_kernel_feature the loader probed */
};

void handoff_fds_init(struct handoff_fds *fds);
void handoff_fds_close(struct handoff_fds *fds);

/* Collector side: send the hello. Returns 0 or -errno. */
int handoff_send_hello(int sock);

/* Loader side: read and check a hello. -EPROTO on bad magic, -EPROTONOSUPPORT on version. */
int handoff_recv_hello(int sock);

/*
 * Loader side: reply->nfds descriptors (their fds in one SCM_RIGHTS message) and
 * reply->n_attachments attachment reports.
 */
int handoff_send_reply(int sock, const struct cleartap_handoff_reply *reply,
		       const struct cleartap_handoff_fd *descs, const int *fds,
		       const struct cleartap_handoff_attachment *attachments);

/*
 * Collector side: receive a reply with up to max_fds descriptors and up to
 * CLEARTAP_HANDOFF_MAX_ATTACHMENTS attachments (ret_attachments has room for that many). On
 * success the fds are owned by the caller. A refusal is returned as reply->status (< 0) with 0
 * descriptors and return value 0. -EPROTO on a malformed message, with every received fd closed.
 */
int handoff_recv_reply(int sock, struct cleartap_handoff_reply *ret_reply,
		       struct cleartap_handoff_fd *ret_descs, int *ret_fds, size_t max_fds,
		       struct cleartap_handoff_attachment *ret_attachments);

#endif
