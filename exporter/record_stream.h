/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's protobuf stream (--proto unix:PATH) read back: Record messages, each after its
 * length as a varint. Incremental: bytes come as the socket gives them. Bounded: a record above
 * max_record is skipped unread (the framing says how far) and counted; a length that is no
 * varint ends the stream.
 */
#ifndef CT_RECORD_STREAM_H
#define CT_RECORD_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct record_stream {
	struct ct_buf pending; /* an incomplete record (its length prefix included) */
	uint64_t skip;	       /* bytes of an oversized record still to pass over */
	size_t max_record;
};

typedef void (*record_stream_fn)(void *ctx, const uint8_t *record, size_t len);

/* Feed n bytes; on_record for each whole record. *oversized counts skipped ones.
 * 0, or -EBADMSG (a malformed length: the stream cannot be followed) or -ENOMEM. */
int record_stream_feed(struct record_stream *rs, const uint8_t *p, size_t n,
		       record_stream_fn on_record, void *ctx, uint64_t *oversized);

void record_stream_free(struct record_stream *rs);

#endif
