// SPDX-License-Identifier: Apache-2.0
#include "ring_positions.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

int ring_positions_map(int fd, struct ring_positions *ret)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	/* the consumer page, then the producer page; read-only, so never the data pages' writer */
	void *area = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, fd, 0);

	if (area == MAP_FAILED)
		return -errno;
	ret->area = area;
	ret->area_len = 2 * page;
	ret->consumer = area;
	ret->producer = (const volatile uint64_t *)((const char *)area + page);
	return 0;
}

uint64_t ring_positions_pending(const struct ring_positions *r)
{
	uint64_t consumer, producer;

	if (!r->area)
		return 0;
	consumer = __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE);
	producer = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
	return producer > consumer ? producer - consumer : 0;
}

void ring_positions_unmap(struct ring_positions *r)
{
	if (r->area)
		munmap(r->area, r->area_len);
	r->area = NULL;
}
