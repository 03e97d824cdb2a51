/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's state in the Prometheus text exposition format (version 0.0.4). Every
 * counter of the stats record is a metric, read from the record's own protobuf messages, so a
 * counter added there is exported here without another list to keep.
 */
#ifndef CT_METRICS_H
#define CT_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "cleartap.pb-c.h"
#include "cleartap/handoff.h"

#define METRICS_MAX_RINGS    256
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* What the stats record does not carry. */
struct metrics_state {
	const char *version;
	uint64_t start_unix_s;
	bool ready;
	uint32_t ring_size;
	uint32_t n_rings;
	uint64_t ring_pending[METRICS_MAX_RINGS]; /* bytes written and not yet read, per ring */
	/* files reported by the loader, by enum cleartap_attach_library and status */
	const uint64_t (*files)[CLEARTAP_ATTACH__COUNT];
	uint64_t scrapes;
};

/* Append the exposition to out (out->failed when memory ran out). */
void metrics_render(const Cleartap__V1__KernelCounters *kernel,
		    const Cleartap__V1__CollectorCounters *collector,
		    const struct metrics_state *state, struct ct_buf *out);

#endif
