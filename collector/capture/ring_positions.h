/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How full a BPF ring buffer is: its consumer and producer positions, mapped read-only next to
 * libbpf's own mapping (libbpf 1.1, Debian 12's, has no ring__avail_data_size()).
 */
#ifndef CT_RING_POSITIONS_H
#define CT_RING_POSITIONS_H

#include <stddef.h>
#include <stdint.h>

struct ring_positions {
	const volatile uint64_t *consumer, *producer;
	void *area;
	size_t area_len;
};

/* Map ring map fd's position pages (before lock-down). Returns 0 or -errno. */
int ring_positions_map(int fd, struct ring_positions *ret);
/* Bytes written by the kernel and not yet consumed. */
uint64_t ring_positions_pending(const struct ring_positions *r);
void ring_positions_unmap(struct ring_positions *r);

#endif
