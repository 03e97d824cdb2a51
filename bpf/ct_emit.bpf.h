/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * Copying the bytes of one call (a TLS library call or a socket syscall) from user memory into
 * data records, in chunks of at most CLEARTAP_CHUNK_MAX.
 */
#ifndef CT_EMIT_BPF_H
#define CT_EMIT_BPF_H

#include "ct_common.bpf.h"

/* Bytes copied from one call at most; the rest is counted as truncated. */
const volatile __u32 ct_max_call_bytes = CLEARTAP_DEFAULT_MAX_CALL_BYTES;

/*
 * Kernels without bpf_loop (before 5.17) get the bounded build (CT_BOUNDED_LOOPS), whose copy
 * loops the verifier unrolls (CLEARTAP_BOUNDED_*) and whose ct_max_call_bytes is at most
 * CLEARTAP_BOUNDED_MAX_CALL_BYTES. A build of its own, not a branch: kernels before 5.13 refuse
 * a bpf_loop callback's reference even in dead code.
 */

/*
 * A lower cap the collector's capture levels ask for (no level exports bodies: the heads
 * suffice), set by the loader on its request; 0: ct_max_call_bytes. One array lookup per call.
 * Mapped by the loader, which writes it there after it dropped its capabilities: 5.10 refuses
 * bpf() to it then while kernel.unprivileged_bpf_disabled is set.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ct_call_limit SEC(".maps");

static __always_inline __u64 ct_call_cap(__u64 len)
{
	__u32 zero = 0, *limit = bpf_map_lookup_elem(&ct_call_limit, &zero);
	__u64 cap = limit && *limit && *limit < ct_max_call_bytes ? *limit : ct_max_call_bytes;

	return len > cap ? cap : len;
}

/* What one call emits; only scalars, the callbacks look maps up themselves. */
struct ct_emit {
	__u64 pid_tgid;
	__u64 ssl;
	__u64 session_id;
	__u64 conn_cookie;
	__u64 buf;     /* user memory of the call's bytes */
	__u64 seg_len; /* bytes to copy from buf */
	__u64 stream_offset;
	__u64 start_ns;
	__u64 call_len;
	__u32 captured_len; /* of the whole call */
	__s32 fd;
	__u16 type; /* enum cleartap_record_type */
	__u8 direction;
	__u8 func;
	__u8 flags;
};

/*
 * bpf_ringbuf_reserve() needs a size the verifier knows as a constant, so payloads go into one of
 * a few size classes instead of always CLEARTAP_CHUNK_MAX: small writes stay small in the ring.
 */
static __always_inline void ct_emit_chunk_class(struct ct_emit *e, void *ring, __u64 offset,
						__u64 len, const __u64 class_size)
{
	struct cleartap_tls_data *rec;

	if (len > class_size)
		return;
	rec = bpf_ringbuf_reserve(ring, sizeof(*rec) + class_size, 0);
	if (!rec) {
		ct_count(CLEARTAP_CNT_DROP_RING_FULL, 1);
		ct_count(CLEARTAP_CNT_DROP_RING_FULL_BYTES, len);
		return;
	}
	if (bpf_probe_read_user(rec->payload, len, (const void *)(e->buf + offset))) {
		bpf_ringbuf_discard(rec, BPF_RB_NO_WAKEUP);
		ct_count(CLEARTAP_CNT_DROP_READ_FAULT, 1);
		ct_count(CLEARTAP_CNT_DROP_READ_FAULT_BYTES, len);
		return;
	}
	ct_fill_header(&rec->hdr, e->type, sizeof(*rec) + len, e->pid_tgid);
	rec->ssl = e->ssl;
	rec->session_id = e->session_id;
	rec->conn_cookie = e->conn_cookie;
	rec->stream_offset = e->stream_offset;
	rec->call_start_ns = e->start_ns;
	rec->call_len = e->call_len;
	rec->captured_len = e->captured_len;
	rec->chunk_offset = offset;
	rec->chunk_len = len;
	rec->fd = e->fd;
	rec->direction = e->direction;
	rec->func = e->func;
	rec->flags = e->flags;
	__builtin_memset(rec->reserved, 0, sizeof(rec->reserved));
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	ct_count(CLEARTAP_CNT_CHUNKS, 1);
	ct_count(CLEARTAP_CNT_CHUNK_BYTES, len);
	bpf_ringbuf_submit(rec, ct_submit_flags(ring));
}

/* Emit chunk `index` of e's segment; 1 when it lies past the segment's end. */
static __always_inline int ct_emit_chunk_of(struct ct_emit *e, __u32 index)
{
	/*
	 * 64-bit lengths on purpose: with __u32, clang 14 bounds a zero-extended copy while passing
	 * the original register to bpf_probe_read_user(), which the verifier then sees unbounded.
	 */
	__u64 offset = (__u64)index * CLEARTAP_CHUNK_MAX;
	__u64 len;
	void *ring;

	if (offset >= e->seg_len)
		return 1;
	len = e->seg_len - offset;
	if (len > CLEARTAP_CHUNK_MAX)
		len = CLEARTAP_CHUNK_MAX;
	ring = ct_ring_for_this_cpu();
	if (!ring) {
		ct_count(CLEARTAP_CNT_NO_RING, 1);
		ct_count(CLEARTAP_CNT_DROP_RING_FULL, 1);
		ct_count(CLEARTAP_CNT_DROP_RING_FULL_BYTES, len);
		return 0;
	}
	if (len <= 256)
		ct_emit_chunk_class(e, ring, offset, len, 256);
	else if (len <= 1024)
		ct_emit_chunk_class(e, ring, offset, len, 1024);
	else if (len <= 4096)
		ct_emit_chunk_class(e, ring, offset, len, 4096);
	else
		ct_emit_chunk_class(e, ring, offset, len, CLEARTAP_CHUNK_MAX);
	return 0;
}

#ifdef CT_BOUNDED_LOOPS
/*
 * The segment being copied, per thread: the bounded loops call the chunk copy up to
 * CLEARTAP_BOUNDED_MAX_IOV * CLEARTAP_BOUNDED_MAX_CHUNKS times per program, which verified
 * inline exceeds the verifier's 1M-instruction budget, so it is a global function, verified
 * once. Before 5.12 a global function takes no pointer (only scalars and ctx): the segment
 * waits here instead. Per thread, not per CPU: since 5.19 a uprobe program can be preempted
 * by another task's. Each thread keeps its slot, as in ct_tls_call.bpf.h.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct ct_emit);
} ct_emit_slots SEC(".maps");

/* Chunk `index` of the thread's segment (ct_emit_slots); 1 past its end or without one. */
__noinline int ct_emit_slot_chunk(__u32 index)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct ct_emit *e = bpf_map_lookup_elem(&ct_emit_slots, &pid_tgid);

	return e ? ct_emit_chunk_of(e, index) : 1;
}

/* Emit e->seg_len bytes at e->buf as chunks, at most CLEARTAP_BOUNDED_MAX_CHUNKS. */
static __always_inline void ct_emit_segment(struct ct_emit *e)
{
	__u64 pid_tgid = e->pid_tgid;
	struct ct_emit *slot = bpf_map_lookup_elem(&ct_emit_slots, &pid_tgid);

	if (!slot) {
		bpf_map_update_elem(&ct_emit_slots, &pid_tgid, e, BPF_ANY);
		slot = bpf_map_lookup_elem(&ct_emit_slots, &pid_tgid);
		if (!slot) {
			ct_count(CLEARTAP_CNT_CALL_STATE_FULL, 1);
			ct_count(CLEARTAP_CNT_DROP_RING_FULL, 1);
			ct_count(CLEARTAP_CNT_DROP_RING_FULL_BYTES, e->seg_len);
			return;
		}
	}
	*slot = *e;
	for (__u32 i = 0; i < CLEARTAP_BOUNDED_MAX_CHUNKS; i++)
		if (ct_emit_slot_chunk(i))
			break;
}
#else
/* bpf_loop callback: chunk `index` of the segment. */
static long ct_emit_chunk(__u32 index, void *ctx)
{
	return ct_emit_chunk_of(ctx, index) ? 1 : 0; /* the verifier wants 0 or 1 */
}

/* Emit e->seg_len bytes at e->buf as chunks. */
static __always_inline void ct_emit_segment(struct ct_emit *e)
{
	bpf_loop((e->seg_len + CLEARTAP_CHUNK_MAX - 1) / CLEARTAP_CHUNK_MAX, ct_emit_chunk, e, 0);
}
#endif

#endif
