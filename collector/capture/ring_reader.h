/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The consumer of the kernel's BPF ring buffers, without bpf(): the rings are mapped from the
 * descriptors the loader hands over, their size taken from its reply. (libbpf's ring_buffer__add
 * asks the kernel for the map's size with bpf(BPF_OBJ_GET_INFO_BY_FD), which Linux 5.10 refuses
 * to a process without capabilities while kernel.unprivileged_bpf_disabled is set.)
 *
 * Layout (kernel/bpf/ringbuf.c): page 0 holds the consumer position, the only page user space may
 * write; page 1 the producer position; then the data, mapped twice in a row so that a record
 * that wraps reads as one. Each record starts with an 8-byte header whose first word is its
 * length with BUSY (still being written) and DISCARD bits.
 */
#ifndef CT_RING_READER_H
#define CT_RING_READER_H

#include <stddef.h>
#include <stdint.h>

#include "handoff_io.h"

/* One record, in the ring: valid until the callback returns. */
typedef void ring_record_fn(void *ctx, const void *data, size_t size);

/* The positions and data of one ring, wherever they are mapped (unit tests build them). */
struct ring_view {
	volatile uint64_t *consumer;
	const volatile uint64_t *producer;
	const uint8_t *data; /* 2 * (mask + 1) bytes: the data twice */
	uint64_t mask;	     /* data size - 1, a power of two */
};

/*
 * Hand every complete record between the consumer and the producer position read on entry to
 * fn, in order, moving the consumer past each (discarded records are skipped); stop at the
 * first still being written. Records committed meanwhile wait for the next pass. Returns the
 * number of records handed over.
 */
size_t ring_view_consume(struct ring_view *ring, ring_record_fn *fn, void *ctx);
/* Bytes written by the kernel and not yet consumed. */
uint64_t ring_view_pending(const struct ring_view *ring);

struct ring_reader {
	struct ring_view rings[CT_MAX_RINGS]; /* each pointing at its ring's two mappings */
	size_t data_area_len;		      /* of each producer page + data mapping */
	uint32_t n_rings;
	int epoll_fd; /* readable when a ring has data the kernel woke readers for */
	ring_record_fn *fn;
	void *ctx;
};

/*
 * Map fds' n_rings rings of size bytes each (before lock-down) and watch them. -EBADF when a
 * descriptor is not a ring of exactly that size.
 */
int ring_reader_open(const struct handoff_fds *fds, ring_record_fn *fn, void *ctx,
		     struct ring_reader *ret);
/* Consume every ring once. Returns the number of records. */
size_t ring_reader_consume(struct ring_reader *reader);
void ring_reader_close(struct ring_reader *reader);

#endif
