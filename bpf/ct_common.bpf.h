/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Maps and helpers every cleartap BPF object shares: sharded ring buffers and drop counters. */
#ifndef CT_COMMON_BPF_H
#define CT_COMMON_BPF_H

#include "cleartap/events.h"

/* Read-only configuration, fixed by the loader before load. */
const volatile __u32 ct_schema_version = CLEARTAP_SCHEMA_VERSION; /* checked on pin reuse */
const volatile __u32 ct_ring_shards = 1;
const volatile __u32 ct_ring_size = 0;

/*
 * One ring buffer per shard, chosen by CPU, so CPUs do not contend on one producer lock. The
 * loader sizes the template and fills the slots with ring buffers it creates and pins.
 */
struct ct_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct ct_ring);
} ct_rings SEC(".maps");

/*
 * The counters, one row of CLEARTAP_COUNTER_STRIDE per CPU (the loader sizes it for the possible
 * CPUs). A plain array the collector maps read-only instead of a per-CPU one it would have to
 * read with bpf(): Linux 5.10 refuses every bpf() command to a process without capabilities
 * while kernel.unprivileged_bpf_disabled is set, and the collector has none.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, CLEARTAP_COUNTER_STRIDE);
	__type(key, __u32);
	__type(value, __u64);
} ct_counters SEC(".maps");

static __always_inline void ct_count(enum cleartap_counter counter, __u64 n)
{
	__u32 key = bpf_get_smp_processor_id() * CLEARTAP_COUNTER_STRIDE + counter;
	__u64 *value = bpf_map_lookup_elem(&ct_counters, &key);

	/* A CPU's own row, but two programs can still interleave on it when preemptible. */
	if (value)
		__sync_fetch_and_add(value, n);
}

static __always_inline void *ct_ring_for_this_cpu(void)
{
	__u32 shard = bpf_get_smp_processor_id();

	if (ct_ring_shards > 1)
		shard %= ct_ring_shards;
	else
		shard = 0;
	return bpf_map_lookup_elem(&ct_rings, &shard);
}

/*
 * Records are submitted without a wakeup (a wakeup from inside a probe costs more than the probe;
 * the collector drains on a timer), except when the ring is half full, so a burst is drained
 * before it overflows.
 */
static __always_inline __u64 ct_submit_flags(void *ring)
{
	if (ct_ring_size && bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) > ct_ring_size / 2)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void ct_fill_header(struct cleartap_record_header *hdr, __u16 type,
					   __u32 size, __u64 pid_tgid)
{
	hdr->type = type;
	hdr->version = ct_schema_version;
	hdr->size = size;
	hdr->timestamp_ns = bpf_ktime_get_ns();
	hdr->tgid = pid_tgid >> 32;
	hdr->tid = (__u32)pid_tgid;
	hdr->cpu = bpf_get_smp_processor_id();
	hdr->reserved = 0;
}

#endif
