/* SPDX-License-Identifier: Apache-2.0 */
/* Chunk reassembly: order, loss, truncation, duplicates and session ends, byte-exact. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "ct_test.h"
#include "memory_budget.h"
#include "reassembly.h"

#define CHUNK CLEARTAP_CHUNK_MAX

struct seen {
	struct reasm_segment seg;
	uint8_t *data;
};

static struct seen segs[64];
static size_t n_segs;
static struct reasm_session_end ends[8];
static size_t n_ends;
static uint8_t pattern[1 << 20];
static uint64_t current_session = 0xabc;

/* A test clock: one tick is half the reorder window, so a hole waits two ticks. */
#define HOLD_NS (20 * 1000000ULL)
static uint64_t clock_ns;

static void tick(struct reasm *r)
{
	clock_ns += HOLD_NS / 2;
	reasm_tick(r, clock_ns);
}

/* Counting mode, for long runs: segments must continue one another, with the right bytes. */
static bool counting;
static uint64_t counted_segs, counted_bytes, counted_next;
static bool counted_ok = true;

static void on_segment(void *ud, const struct reasm_segment *s)
{
	(void)ud;
	if (counting) {
		counted_ok &= s->stream_offset == counted_next + s->gap_before &&
			      s->gap_before == 0 &&
			      memcmp(s->data, pattern + s->stream_offset, s->len) == 0;
		counted_next = s->stream_offset + s->len;
		counted_segs++;
		counted_bytes += s->len;
		return;
	}
	if (n_segs == 64)
		abort();
	segs[n_segs].seg = *s;
	segs[n_segs].data = malloc(s->len ? s->len : 1);
	memcpy(segs[n_segs].data, s->data, s->len);
	segs[n_segs].seg.data = segs[n_segs].data;
	n_segs++;
}

static void on_end(void *ud, const struct reasm_session_end *e)
{
	(void)ud;
	ends[n_ends++] = *e;
}

static struct reasm *fresh(uint64_t max_pending)
{
	struct reasm_config cfg = {
	    .max_call_bytes = 1 << 20, .max_pending_bytes = max_pending, .hold_ns = HOLD_NS};
	struct reasm_ops ops = {.segment = on_segment, .session_end = on_end};
	struct reasm *r = NULL;

	for (size_t i = 0; i < n_segs; i++)
		free(segs[i].data);
	n_segs = n_ends = 0;
	CHECK(reasm_new(&cfg, &ops, NULL, &r) == 0);
	return r;
}

/* Chunk `index` of a call whose bytes are pattern[stream_offset...]. */
static int add(struct reasm *r, uint8_t dir, uint64_t stream_offset, uint64_t call_len,
	       uint32_t captured, uint32_t index)
{
	static uint8_t storage[sizeof(struct cleartap_tls_data) + CHUNK];
	struct cleartap_tls_data *rec = (void *)storage;
	uint32_t off = index * CHUNK;
	uint32_t len = captured - off < CHUNK ? captured - off : CHUNK;

	memset(rec, 0, sizeof(*rec));
	rec->hdr.type = CLEARTAP_REC_TLS_DATA;
	rec->hdr.version = CLEARTAP_SCHEMA_VERSION;
	rec->hdr.size = sizeof(*rec) + len;
	rec->hdr.timestamp_ns = 1000 + stream_offset;
	rec->hdr.tgid = 42;
	rec->hdr.tid = 43;
	rec->ssl = 0x5000;
	rec->session_id = current_session;
	rec->stream_offset = stream_offset;
	rec->call_len = call_len;
	rec->captured_len = captured;
	rec->chunk_offset = off;
	rec->chunk_len = len;
	rec->fd = 7;
	rec->direction = dir;
	rec->func = CLEARTAP_FN_SSL_WRITE;
	memcpy(rec->comm, "client", 7);
	memcpy(rec->payload, pattern + stream_offset + off, len);
	return reasm_add_chunk(r, rec);
}

static void check_segment(size_t i, uint64_t stream_offset, size_t len, uint64_t gap,
			  uint64_t truncated)
{
	CHECK(i < n_segs);
	if (i >= n_segs)
		return;
	CHECK_U64(segs[i].seg.stream_offset, stream_offset);
	CHECK_U64(segs[i].seg.len, len);
	CHECK_U64(segs[i].seg.gap_before, gap);
	CHECK_U64(segs[i].seg.truncated, truncated);
	CHECK(memcmp(segs[i].data, pattern + stream_offset, len) == 0);
}

static void test_small_call_emitted_at_once(void)
{
	struct reasm *r = fresh(1 << 26);

	CHECK(add(r, CLEARTAP_DIR_WRITE, 0, 100, 100, 0) == 0);
	CHECK_U64(n_segs, 1);
	check_segment(0, 0, 100, 0, 0);
	CHECK_U64(segs[0].seg.tgid, 42);
	CHECK_U64(segs[0].seg.fd, 7);
	CHECK_STR(segs[0].seg.comm, "client");
	reasm_free(r);
}

static void test_chunks_out_of_order(void)
{
	struct reasm *r = fresh(1 << 26);

	add(r, CLEARTAP_DIR_READ, 0, 40000, 40000, 2);
	add(r, CLEARTAP_DIR_READ, 0, 40000, 40000, 0);
	CHECK_U64(n_segs, 0);
	add(r, CLEARTAP_DIR_READ, 0, 40000, 40000, 1);
	CHECK_U64(n_segs, 1);
	check_segment(0, 0, 40000, 0, 0);
	CHECK_U64(reasm_counters(r)->partial_calls, 0);
	reasm_free(r);
}

static void test_missing_middle_chunk_is_a_gap(void)
{
	struct reasm *r = fresh(1 << 26);

	add(r, CLEARTAP_DIR_WRITE, 0, 40000, 40000, 0);
	add(r, CLEARTAP_DIR_WRITE, 0, 40000, 40000, 2);
	tick(r);
	CHECK_U64(n_segs, 0); /* still waiting for the middle chunk */
	tick(r);
	CHECK_U64(n_segs, 2);
	check_segment(0, 0, CHUNK, 0, 0);
	check_segment(1, 2 * CHUNK, 40000 - 2 * CHUNK, CHUNK, 0);
	CHECK_U64(reasm_counters(r)->partial_calls, 1);
	CHECK_U64(reasm_counters(r)->gap_bytes, CHUNK);
	reasm_free(r);
}

static void test_calls_from_two_shards_are_ordered(void)
{
	struct reasm *r = fresh(1 << 26);

	add(r, CLEARTAP_DIR_WRITE, 100, 50, 50, 0); /* later call drained first */
	CHECK_U64(n_segs, 0);
	add(r, CLEARTAP_DIR_WRITE, 0, 100, 100, 0); /* releases both, in stream order */
	CHECK_U64(n_segs, 2);
	check_segment(0, 0, 100, 0, 0);
	check_segment(1, 100, 50, 0, 0);
	reasm_free(r);
}

/*
 * A whole call that could go out at once (straight from its record) still waits while the other
 * direction of its session holds an earlier call behind a hole: the two are released in order.
 */
static void test_whole_call_waits_for_the_other_direction(void)
{
	struct reasm *r = fresh(1 << 26);

	add(r, CLEARTAP_DIR_WRITE, 100, 50, 50, 0); /* the request's second call, drained first */
	add(r, CLEARTAP_DIR_READ, 0, 30, 30, 0);    /* the response, whole and next in its stream */
	CHECK_U64(n_segs, 0);
	add(r, CLEARTAP_DIR_WRITE, 0, 100, 100, 0); /* the hole fills: all three, in time order */
	CHECK_U64(n_segs, 3);
	CHECK_U64(segs[0].seg.direction, CLEARTAP_DIR_WRITE);
	CHECK_U64(segs[0].seg.stream_offset, 0);
	CHECK_U64(segs[1].seg.direction, CLEARTAP_DIR_READ);
	CHECK_U64(segs[2].seg.direction, CLEARTAP_DIR_WRITE);
	CHECK_U64(segs[2].seg.stream_offset, 100);
	/* with nothing pending either way, the next whole call goes out at once, bytes intact */
	add(r, CLEARTAP_DIR_READ, 30, 20, 20, 0);
	CHECK_U64(n_segs, 4);
	check_segment(3, 30, 20, 0, 0);
	CHECK_STR(segs[3].seg.comm, "client");
	reasm_free(r);
}

static void test_lost_call_shows_as_gap(void)
{
	struct reasm *r = fresh(1 << 26);

	add(r, CLEARTAP_DIR_WRITE, 0, 100, 100, 0);
	add(r, CLEARTAP_DIR_WRITE, 300, 50, 50, 0);
	tick(r);
	tick(r);
	CHECK_U64(n_segs, 2);
	check_segment(1, 300, 50, 200, 0);
	CHECK_U64(reasm_counters(r)->gap_bytes, 200);
	reasm_free(r);
}

static void test_truncated_call(void)
{
	struct reasm *r = fresh(1 << 26);

	add(r, CLEARTAP_DIR_WRITE, 0, 100000, 20000, 1);
	add(r, CLEARTAP_DIR_WRITE, 0, 100000, 20000, 0);
	CHECK_U64(n_segs, 1);
	check_segment(0, 0, 20000, 0, 80000);
	add(r, CLEARTAP_DIR_WRITE, 100000, 10, 10, 0);
	CHECK_U64(n_segs, 2);
	check_segment(1, 100000, 10, 0, 0); /* truncated bytes are not counted twice */
	reasm_free(r);
}

static void test_truncated_call_missing_last_chunk(void)
{
	struct reasm *r = fresh(1 << 26);

	add(r, CLEARTAP_DIR_WRITE, 0, 100000, 20000, 0);
	tick(r);
	tick(r);
	CHECK_U64(n_segs, 1);
	check_segment(0, 0, CHUNK, 0, 0);
	add(r, CLEARTAP_DIR_WRITE, 100000, 10, 10, 0);
	CHECK_U64(n_segs, 2);
	check_segment(1, 100000, 10, 100000 - CHUNK, 0);
	reasm_free(r);
}

static void test_capture_started_mid_stream(void)
{
	struct reasm *r = fresh(1 << 26);

	add(r, CLEARTAP_DIR_READ, 5000, 10, 10, 0);
	CHECK_U64(n_segs, 0);
	tick(r);
	tick(r);
	CHECK_U64(n_segs, 1);
	check_segment(0, 5000, 10, 5000, 0);
	reasm_free(r);
}

static void test_duplicate_and_malformed_chunks(void)
{
	struct reasm *r = fresh(1 << 26);
	static uint8_t storage[sizeof(struct cleartap_tls_data) + 16];
	struct cleartap_tls_data *bad = (void *)storage;

	add(r, CLEARTAP_DIR_WRITE, 0, 40000, 40000, 0);
	add(r, CLEARTAP_DIR_WRITE, 0, 40000, 40000, 0);
	CHECK_U64(reasm_counters(r)->duplicate_chunks, 1);
	/* Same call announced with another length. */
	CHECK(add(r, CLEARTAP_DIR_WRITE, 0, 40001, 40001, 1) == -EBADMSG);
	memset(bad, 0, sizeof(storage));
	bad->captured_len = 10;
	bad->call_len = 10;
	bad->chunk_len = 11; /* longer than captured */
	CHECK(reasm_add_chunk(r, bad) == -EBADMSG);
	bad->chunk_len = 10;
	bad->chunk_offset = 5; /* not on a chunk boundary */
	CHECK(reasm_add_chunk(r, bad) == -EBADMSG);
	bad->chunk_offset = 0;
	bad->captured_len = 11; /* more captured than the call had */
	CHECK(reasm_add_chunk(r, bad) == -EBADMSG);
	CHECK_U64(reasm_counters(r)->malformed_chunks, 4);
	reasm_free(r);
}

static void test_session_end_and_reuse(void)
{
	struct reasm *r = fresh(1 << 26);
	struct cleartap_tls_free end = {
	    .hdr = {.type = CLEARTAP_REC_TLS_FREE, .tgid = 42, .tid = 43},
	    .ssl = 0x5000,
	    .bytes_written = 100,
	    .bytes_read = 0,
	    .session_id = 0xabc,
	};

	current_session = 0xabc;
	add(r, CLEARTAP_DIR_WRITE, 0, 100, 100, 0);
	reasm_end_session(r, &end);
	CHECK_U64(n_ends, 0); /* late chunks may still come */
	/* The SSL* is reused by a new session before the old one's end was processed. */
	current_session = 0xdef;
	add(r, CLEARTAP_DIR_WRITE, 0, 10, 10, 0);
	CHECK_U64(n_segs, 2);
	check_segment(1, 0, 10, 0, 0); /* a stream of its own: no gap, no late bytes */
	CHECK_U64(segs[1].seg.session, 0xdef);
	tick(r);
	tick(r);
	CHECK_U64(n_ends, 1);
	CHECK_U64(ends[0].session, 0xabc);
	CHECK_U64(ends[0].bytes_written, 100);
	CHECK_U64(reasm_counters(r)->sessions_ended, 1);
	CHECK_U64(reasm_counters(r)->gap_bytes, 0);
	current_session = 0xabc;
	reasm_free(r);
}

static void test_session_end_drained_before_its_last_chunks(void)
{
	struct reasm *r = fresh(1 << 26);
	struct cleartap_tls_free end = {
	    .hdr = {.type = CLEARTAP_REC_TLS_FREE, .tgid = 42, .tid = 43},
	    .bytes_written = 150,
	    .session_id = 0xabc,
	};

	/* SSL_free's record came from one ring, the last calls from another, later. */
	reasm_end_session(r, &end);
	add(r, CLEARTAP_DIR_WRITE, 100, 50, 50, 0);
	add(r, CLEARTAP_DIR_WRITE, 0, 100, 100, 0);
	CHECK_U64(n_segs, 2);
	check_segment(0, 0, 100, 0, 0);
	check_segment(1, 100, 50, 0, 0);
	CHECK_U64(n_ends, 0);
	tick(r);
	tick(r);
	CHECK_U64(n_ends, 1);
	CHECK_U64(reasm_counters(r)->gap_bytes, 0);
	reasm_free(r);
}

static void test_loss_after_the_last_chunk_is_told_at_session_end(void)
{
	struct reasm *r = fresh(1 << 26);
	struct cleartap_tls_free end = {
	    .hdr = {.type = CLEARTAP_REC_TLS_FREE, .tgid = 42, .tid = 43},
	    .ssl = 0x1000,
	    .bytes_written = 250, /* the kernel counted 250 bytes written; 150 arrived */
	    .bytes_read = 0,
	    .session_id = 0xabc,
	};

	add(r, CLEARTAP_DIR_WRITE, 0, 100, 100, 0);
	add(r, CLEARTAP_DIR_WRITE, 100, 50, 50, 0);
	reasm_end_session(r, &end);
	tick(r);
	tick(r);
	CHECK_U64(n_segs, 3);
	check_segment(2, 250, 0, 100, 0);
	CHECK_U64(reasm_counters(r)->gap_bytes, 100);
	CHECK_U64(n_ends, 1);
	reasm_free(r);
}

/*
 * The connection closed without SSL_free (Node, wget): the session ends for its consumers then;
 * an SSL_free that comes later still tells the loss after the last byte, once.
 */
static void test_connection_close_ends_session(void)
{
	struct reasm *r = fresh(1 << 26);
	struct cleartap_tls_free end = {
	    .hdr = {.type = CLEARTAP_REC_TLS_FREE, .tgid = 42, .tid = 43},
	    .ssl = 0x5000,
	    .bytes_written = 130, /* 30 bytes after the last captured call were lost */
	    .bytes_read = 50,
	    .session_id = 0xabc,
	};

	add(r, CLEARTAP_DIR_WRITE, 0, 100, 100, 0);
	add(r, CLEARTAP_DIR_READ, 0, 50, 50, 0);
	reasm_end_connection(r, 42, 0xabc, 5000);
	CHECK_U64(n_ends, 0); /* late chunks may still come */
	tick(r);
	tick(r);
	CHECK_U64(n_ends, 1);
	CHECK_U64(ends[0].ssl, 0); /* the close's: no stream lengths */
	CHECK_U64(ends[0].time_ns, 5000);
	CHECK_U64(reasm_counters(r)->sessions_ended, 1);
	reasm_end_session(r, &end);
	tick(r);
	tick(r);
	CHECK_U64(n_ends, 2);
	CHECK_U64(ends[1].ssl, 0x5000);
	CHECK_U64(n_segs, 3);
	check_segment(2, 130, 0, 30, 0); /* against what was accounted, not from 0 */
	CHECK_U64(reasm_counters(r)->gap_bytes, 30);
	CHECK_U64(reasm_counters(r)->sessions_ended, 1);
	reasm_free(r);
}

/* A session with no call and no end for idle_ns ends, once, when both directions are idle. */
static void test_idle_session_ends(void)
{
	struct reasm *r = NULL;

	fresh(1 << 26); /* resets what was seen */
	CHECK(reasm_new(&(struct reasm_config){.max_call_bytes = 1 << 20,
					       .max_pending_bytes = 1 << 26,
					       .hold_ns = HOLD_NS,
					       .idle_ns = 100 * HOLD_NS},
			&(struct reasm_ops){.segment = on_segment, .session_end = on_end}, NULL,
			&r) == 0);
	add(r, CLEARTAP_DIR_WRITE, 0, 100, 100, 0);
	add(r, CLEARTAP_DIR_READ, 0, 50, 50, 0);
	/* a tick is HOLD_NS / 2: idle after 200 ticks, swept every 25 */
	for (int i = 0; i < 250; i++) {
		tick(r);
		if (i == 150) /* the write direction is idle from tick 200; the read one is not */
			add(r, CLEARTAP_DIR_READ, 50, 10, 10, 0);
	}
	CHECK_U64(n_ends, 0); /* swept: the write direction alone idle is not the session */
	for (int i = 0; i < 90; i++)
		tick(r);
	CHECK_U64(n_ends, 0); /* the read direction, busy at 150, is idle from 350: swept by 375 */
	for (int i = 0; i < 40; i++)
		tick(r);
	CHECK_U64(n_ends, 1);
	CHECK_U64(n_segs, 3);
	CHECK_U64(ends[0].session, 0xabc);
	CHECK_U64(reasm_counters(r)->idle_sessions, 1);
	CHECK_U64(reasm_counters(r)->sessions_ended, 1);
	for (int i = 0; i < 2048; i++)
		tick(r);
	CHECK_U64(n_ends, 1); /* told once */
	reasm_free(r);
}

static void test_hole_followed_by_many_calls(void)
{
	struct reasm *r = fresh(1 << 26);
	const uint64_t calls = 100000, len = 10;

	counting = true;
	counted_segs = counted_bytes = counted_next = 0;
	for (uint64_t i = 1; i <= calls; i++) /* call 0 is late: a hole at the start */
		CHECK(add(r, CLEARTAP_DIR_WRITE, i * len, len, len, 0) == 0);
	CHECK_U64(counted_segs, 0); /* all wait behind the hole */
	CHECK(add(r, CLEARTAP_DIR_WRITE, 0, len, len, 0) == 0);
	CHECK_U64(counted_segs, calls + 1);
	CHECK_U64(counted_bytes, (calls + 1) * len);
	CHECK(counted_ok);
	counting = false;
	reasm_free(r);
}

/* Calls drained in any order (rings drain independently) come out in stream order, whole. */
static void test_calls_in_shuffled_order(void)
{
	enum { CALLS = 20000 };
	static uint32_t order[CALLS];
	struct reasm *r = fresh(1 << 26);
	const uint64_t len = 40;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	for (uint32_t i = 0; i < CALLS; i++)
		order[i] = i;
	for (uint32_t i = CALLS - 1; i > 0; i--) { /* Fisher-Yates, xorshift */
		uint32_t j, t;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		j = (uint32_t)(seed % (i + 1));
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	counting = true;
	counted_segs = counted_bytes = counted_next = 0;
	for (uint32_t i = 0; i < CALLS; i++) {
		CHECK(add(r, CLEARTAP_DIR_WRITE, order[i] * len, len, len, 0) == 0);
		if (i == CALLS / 2) /* a late duplicate is found as such */
			CHECK(add(r, CLEARTAP_DIR_WRITE, order[i] * len, len, len, 0) == 0);
	}
	CHECK_U64(counted_segs, CALLS);
	CHECK_U64(counted_bytes, CALLS * len);
	CHECK_U64(reasm_counters(r)->duplicate_chunks, 1);
	CHECK(counted_ok);
	counting = false;
	reasm_free(r);
}

static void test_flush_all_emits_incomplete(void)
{
	struct reasm *r = fresh(1 << 26);

	add(r, CLEARTAP_DIR_WRITE, 0, 40000, 40000, 1);
	reasm_flush_all(r);
	CHECK_U64(n_segs, 2);
	check_segment(0, CHUNK, CHUNK, CHUNK, 0);
	/* the missing last chunk is told at exit too, as an empty segment at the stream's end */
	check_segment(1, 40000, 0, 40000 - 2 * CHUNK, 0);
	CHECK_U64(reasm_counters(r)->gap_bytes, CHUNK + 40000 - 2 * CHUNK);
	reasm_free(r);
}

static void test_pending_memory_limit(void)
{
	struct reasm *r = fresh(64 * 1024);

	add(r, CLEARTAP_DIR_WRITE, 0, 40000, 40000, 0);
	add(r, CLEARTAP_DIR_WRITE, 40000, 40000, 40000, 0); /* would exceed 64 KiB pending */
	CHECK_U64(reasm_counters(r)->evicted_calls, 1);
	CHECK_U64(n_segs, 1);
	check_segment(0, 0, CHUNK, 0, 0);
	reasm_flush_all(r);
	CHECK_U64(n_segs, 3);
	check_segment(1, 40000, CHUNK, 40000 - CHUNK, 0);
	check_segment(2, 80000, 0, 40000 - CHUNK, 0);
	reasm_free(r);
}

/* One stream over its share is flushed; another stream's pending calls wait on. */
static void test_stream_pending_limit(void)
{
	struct reasm *r = fresh(1 << 20);

	reasm_free(r);
	CHECK(reasm_new(&(struct reasm_config){.max_call_bytes = 1 << 20,
					       .max_pending_bytes = 1 << 20,
					       .max_stream_pending_bytes = 64 * 1024,
					       .hold_ns = HOLD_NS},
			&(struct reasm_ops){.segment = on_segment, .session_end = on_end}, NULL,
			&r) == 0);
	current_session = 0xdef;
	add(r, CLEARTAP_DIR_WRITE, 0, 40000, 40000, 0); /* incomplete: waits */
	current_session = 0xabc;
	add(r, CLEARTAP_DIR_WRITE, 0, 40000, 40000, 0);
	add(r, CLEARTAP_DIR_WRITE, 40000, 40000, 40000, 0); /* over 64 KiB for this stream */
	CHECK_U64(reasm_counters(r)->evicted_calls, 1);
	CHECK_U64(n_segs, 1);
	CHECK_U64(segs[0].seg.session, 0xabc);
	reasm_free(r);
}

/* The collector's budget: a call that cannot be allocated is dropped, counted, told as a gap. */
static void test_memory_budget_refusal(void)
{
	struct mem_budget_stats start, before, after;
	struct reasm *r;

	mem_budget_get(&start);
	r = fresh(1 << 20);
	add(r, CLEARTAP_DIR_WRITE, 0, 100, 100, 0); /* the stream exists, emitted at once */
	mem_budget_get(&before);
	mem_budget_set_limit(before.used + 4096);
	CHECK(add(r, CLEARTAP_DIR_WRITE, 100, 20000, 20000, 0) == -ENOMEM);
	CHECK_U64(reasm_counters(r)->refused_chunks, 1);
	mem_budget_set_limit(UINT64_MAX);
	add(r, CLEARTAP_DIR_WRITE, 20100, 100, 100, 0);
	CHECK_U64(n_segs, 1); /* behind the hole */
	tick(r);
	tick(r);
	CHECK_U64(n_segs, 2);
	check_segment(1, 20100, 100, 20000, 0); /* the refused call is a gap, not silence */
	reasm_free(r);
	mem_budget_get(&after);
	CHECK_U64(after.used, start.used); /* every charge released */
}

int main(void)
{
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + (i >> 8));
	RUN(test_small_call_emitted_at_once);
	RUN(test_chunks_out_of_order);
	RUN(test_missing_middle_chunk_is_a_gap);
	RUN(test_calls_from_two_shards_are_ordered);
	RUN(test_whole_call_waits_for_the_other_direction);
	RUN(test_lost_call_shows_as_gap);
	RUN(test_truncated_call);
	RUN(test_truncated_call_missing_last_chunk);
	RUN(test_capture_started_mid_stream);
	RUN(test_duplicate_and_malformed_chunks);
	RUN(test_session_end_and_reuse);
	RUN(test_session_end_drained_before_its_last_chunks);
	RUN(test_loss_after_the_last_chunk_is_told_at_session_end);
	RUN(test_connection_close_ends_session);
	RUN(test_idle_session_ends);
	RUN(test_hole_followed_by_many_calls);
	RUN(test_calls_in_shuffled_order);
	RUN(test_flush_all_emits_incomplete);
	RUN(test_pending_memory_limit);
	RUN(test_stream_pending_limit);
	RUN(test_memory_budget_refusal);
	for (size_t i = 0; i < n_segs; i++)
		free(segs[i].data);
	return TEST_EXIT();
}
