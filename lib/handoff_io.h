/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_HANDOFF_IO_H
#define CT_HANDOFF_IO_H

#include <stddef.h>

#include "cleartap/handoff.h"

/* Collector side: send the hello. Returns 0 or -errno. */
int handoff_send_hello(int sock);

/* Loader side: read and check a hello. -EPROTO on bad magic, -EPROTONOSUPPORT on version. */
int handoff_recv_hello(int sock);

/* Loader side: reply->nfds descriptors, their fds in one SCM_RIGHTS message. */
int handoff_send_reply(int sock, const struct cleartap_handoff_reply *reply,
		       const struct cleartap_handoff_fd *descs, const int *fds);

/*
 * Collector side: receive a reply with up to max_fds descriptors. On success the fds are owned by
 * the caller. A refusal is returned as reply->status (< 0) with 0 descriptors and return value 0.
 * Returns -EPROTO on a malformed message, with every received fd closed.
 */
int handoff_recv_reply(int sock, struct cleartap_handoff_reply *ret_reply,
		       struct cleartap_handoff_fd *ret_descs, int *ret_fds, size_t max_fds);

#endif
