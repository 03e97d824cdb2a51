/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The BPF programs' counters (enum cleartap_counter), read from the counters map mapped
 * read-only: one row of CLEARTAP_COUNTER_STRIDE per CPU, summed here. No bpf() call: see
 * ring_reader.h for why the collector makes none.
 */
#ifndef CT_KERNEL_COUNTERS_H
#define CT_KERNEL_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "cleartap/events.h"

struct kernel_counters {
	const volatile uint64_t *rows; /* rows x CLEARTAP_COUNTER_STRIDE */
	uint32_t n_rows;
	size_t area_len;
};

/* Map fd's n_rows rows (before lock-down). -EBADF when fd is not a counters map that large. */
int kernel_counters_open(int fd, uint32_t n_rows, struct kernel_counters *ret);
/* Each counter summed over the rows. */
void kernel_counters_read(const struct kernel_counters *counters, uint64_t ret[CLEARTAP_CNT__MAX]);
void kernel_counters_close(struct kernel_counters *counters);

#endif
