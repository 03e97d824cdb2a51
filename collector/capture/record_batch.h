/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The records of one drain pass over every ring, put back in time order. Each ring is ordered
 * (one CPU writes it), but the rings are not ordered against each other: a response drained
 * from one ring before its request from another would be parsed first. One pass reads all that
 * was committed when it started, so sorting the pass by timestamp restores the order between
 * the two directions of a connection, and between a session's last data and its end.
 */
#ifndef CT_RECORD_BATCH_H
#define CT_RECORD_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct record_ref {
	uint64_t timestamp_ns;
	uint32_t cpu;
	uint32_t size;
	size_t offset; /* into data */
	size_t seq;    /* arrival order, for a stable sort */
};

struct record_batch {
	struct ct_buf data;
	struct record_ref *refs;
	size_t n, cap;
	struct record_ref *scratch; /* merge sort buffer, kept between passes */
	size_t scratch_cap;
};

/* Copy one record (at least a record header long, or it is ignored: -EBADMSG). -ENOMEM. */
int record_batch_add(struct record_batch *b, const void *record, size_t size);

/* Order by time (a write's start, any other record's timestamp), then CPU, then arrival. */
void record_batch_sort(struct record_batch *b);

/* The i-th record after sorting; valid until the next add or reset. */
const void *record_batch_get(const struct record_batch *b, size_t i, size_t *ret_size);

void record_batch_reset(struct record_batch *b);
void record_batch_free(struct record_batch *b);

#endif
