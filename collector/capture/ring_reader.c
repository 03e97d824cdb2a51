// SPDX-License-Identifier: Apache-2.0
#include "ring_reader.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ct_macro.h"

/* include/uapi/linux/bpf.h */
#define RING_BUSY_BIT	 (1u << 31)
#define RING_DISCARD_BIT (1u << 30)
#define RING_HEADER_SIZE 8u

size_t ring_view_consume(struct ring_view *ring, ring_record_fn *fn, void *ctx)
{
	uint64_t consumer = __atomic_load_n(ring->consumer, __ATOMIC_ACQUIRE);
	/* what was committed when the pass began: a pass holds at most a ring's worth, however
	 * fast the probes write meanwhile (record_batch.h) */
	uint64_t producer = __atomic_load_n(ring->producer, __ATOMIC_ACQUIRE);
	size_t n = 0;

	while (consumer < producer) {
		const uint8_t *header = ring->data + (consumer & ring->mask);
		/* the kernel's release store of the length publishes the record */
		uint32_t len = __atomic_load_n((const uint32_t *)header, __ATOMIC_ACQUIRE);

		if (len & RING_BUSY_BIT)
			break; /* a probe still writes it; records after it wait too */
		consumer += ((len & ~RING_DISCARD_BIT) + RING_HEADER_SIZE + 7) & ~7ull;
		if (!(len & RING_DISCARD_BIT)) {
			fn(ctx, header + RING_HEADER_SIZE, len);
			n++;
		}
		__atomic_store_n(ring->consumer, consumer, __ATOMIC_RELEASE);
	}
	return n;
}

uint64_t ring_view_pending(const struct ring_view *ring)
{
	uint64_t consumer = __atomic_load_n(ring->consumer, __ATOMIC_ACQUIRE);
	uint64_t producer = __atomic_load_n(ring->producer, __ATOMIC_ACQUIRE);

	return producer > consumer ? producer - consumer : 0;
}

/*
 * The producer page and the data twice, read-only; the kernel refuses a mapping larger than the
 * ring, so a mapping one page longer failing proves the size (ring sizes are powers of two).
 */
static int map_data(int fd, size_t page, size_t len, void **ret)
{
	void *area = mmap(NULL, len + page, PROT_READ, MAP_SHARED, fd, (off_t)page);

	if (area != MAP_FAILED) {
		munmap(area, len + page);
		return -EBADF; /* larger than said */
	}
	area = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)page);
	if (area == MAP_FAILED)
		return errno == ENOMEM ? -ENOMEM : -EBADF;
	*ret = area;
	return 0;
}

int ring_reader_open(const struct handoff_fds *fds, ring_record_fn *fn, void *ctx,
		     struct ring_reader *ret)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), size = fds->ring_size;
	struct ring_reader r = {.epoll_fd = -1, .fn = fn, .ctx = ctx};
	int err;

	if (size < page || (size & (size - 1)) || fds->n_rings > CT_MAX_RINGS)
		return -EINVAL;
	r.data_area_len = page + 2 * size;
	r.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (r.epoll_fd < 0)
		return -errno;
	for (uint32_t i = 0; i < fds->n_rings; i++) {
		struct ring_view *v = &r.rings[i];
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
		void *consumer =
		    mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fds->rings[i], 0);
		void *area;

		if (consumer == MAP_FAILED) {
			err = errno == ENOMEM ? -ENOMEM : -EBADF; /* not a ring map */
			goto fail;
		}
		v->consumer = consumer;
		r.n_rings = i + 1;
		if ((err = map_data(fds->rings[i], page, r.data_area_len, &area)) < 0)
			goto fail;
		v->producer = area;
		v->data = (const uint8_t *)area + page;
		v->mask = size - 1;
		if (epoll_ctl(r.epoll_fd, EPOLL_CTL_ADD, fds->rings[i], &ev) < 0) {
			err = -errno;
			goto fail;
		}
	}
	*ret = r;
	return 0;
fail:
	ring_reader_close(&r);
	return err;
}

size_t ring_reader_consume(struct ring_reader *reader)
{
	size_t n = 0;

	for (uint32_t i = 0; i < reader->n_rings; i++)
		n += ring_view_consume(&reader->rings[i], reader->fn, reader->ctx);
	return n;
}

void ring_reader_close(struct ring_reader *reader)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	/* the views' pointers are the mappings' starts */
	for (uint32_t i = 0; i < reader->n_rings; i++) {
		struct ring_view *v = &reader->rings[i];

		if (v->consumer)
			munmap((void *)v->consumer, page);
		if (v->producer)
			munmap((void *)v->producer, reader->data_area_len);
		*v = (struct ring_view){0};
	}
	reader->n_rings = 0;
	ct_closep(&reader->epoll_fd);
	reader->epoll_fd = -1;
}
