/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ring consumer on a ring laid out as the kernel lays one out (kernel/bpf/ringbuf.c): 8-byte
 * headers of length | BUSY | DISCARD, records 8-aligned, the data mapped twice in a row.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ct_test.h"
#include "ring_reader.h"

#define SIZE	64u
#define BUSY	(1u << 31)
#define DISCARD (1u << 30)

struct fake_ring {
	uint64_t consumer, producer;
	uint8_t data[2 * SIZE];
	struct ring_view view;
};

static void fake_init(struct fake_ring *f, uint64_t start)
{
	memset(f, 0xee, sizeof(*f));
	f->consumer = f->producer = start;
	f->view = (struct ring_view){
	    .consumer = &f->consumer, .producer = &f->producer, .data = f->data, .mask = SIZE - 1};
}

/* a byte at a ring position, in both copies of the data as the kernel's double mapping shows */
static void put(struct fake_ring *f, uint64_t pos, uint8_t byte)
{
	f->data[pos & (SIZE - 1)] = byte;
	f->data[(pos & (SIZE - 1)) + SIZE] = byte;
}

static void put_header(struct fake_ring *f, uint64_t pos, uint32_t word)
{
	for (int i = 0; i < 8; i++)
		put(f, pos + i, i < 4 ? (uint8_t)(word >> (8 * i)) : 0);
}

/* a record of len bytes of value fill at the producer; returns its position */
static uint64_t produce(struct fake_ring *f, uint32_t len, uint8_t fill, uint32_t flags)
{
	uint64_t at = f->producer;

	put_header(f, at, len | flags);
	for (uint32_t i = 0; i < len; i++)
		put(f, at + 8 + i, (uint8_t)(fill + i));
	f->producer = at + ((8 + len + 7) & ~7u);
	return at;
}

struct seen {
	size_t n;
	size_t sizes[8];
	uint8_t bytes[8][SIZE];
};

static void collect(void *ctx, const void *data, size_t size)
{
	struct seen *s = ctx;

	if (s->n < 8 && size <= SIZE) {
		s->sizes[s->n] = size;
		memcpy(s->bytes[s->n], data, size);
	}
	s->n++;
}

static bool bytes_are(const uint8_t *b, size_t n, uint8_t fill)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != (uint8_t)(fill + i))
			return false;
	return true;
}

static void test_records_in_order_and_consumer_moved_8_aligned(void)
{
	struct fake_ring f;
	struct seen s = {};

	fake_init(&f, 0);
	produce(&f, 5, 0x10, 0);
	produce(&f, 12, 0x40, 0);
	CHECK_U64(ring_view_pending(&f.view), 16 + 24);
	CHECK_U64(ring_view_consume(&f.view, collect, &s), 2);
	CHECK_U64(s.n, 2);
	CHECK_U64(s.sizes[0], 5);
	CHECK(bytes_are(s.bytes[0], 5, 0x10));
	CHECK_U64(s.sizes[1], 12);
	CHECK(bytes_are(s.bytes[1], 12, 0x40));
	CHECK_U64(f.consumer, 40);
	CHECK_U64(ring_view_pending(&f.view), 0);
	CHECK_U64(ring_view_consume(&f.view, collect, &s), 0);
}

static void test_a_record_across_the_end_reads_whole(void)
{
	struct fake_ring f;
	struct seen s = {};

	fake_init(&f, 3 * SIZE - 16); /* positions only grow; the ring wraps many times */
	f.consumer = f.producer;
	produce(&f, 30, 0x80, 0); /* header at 48, bytes 56..85: wraps at 64 */
	CHECK_U64(ring_view_consume(&f.view, collect, &s), 1);
	CHECK_U64(s.sizes[0], 30);
	CHECK(bytes_are(s.bytes[0], 30, 0x80));
	CHECK_U64(f.consumer, 3 * SIZE - 16 + 40);
}

static void test_busy_stops_until_committed(void)
{
	struct fake_ring f;
	struct seen s = {};
	uint64_t busy;

	fake_init(&f, 0);
	produce(&f, 4, 0x01, 0);
	busy = produce(&f, 6, 0x20, BUSY);
	produce(&f, 3, 0x30, 0); /* reserved after, committed first: must wait its turn */
	CHECK_U64(ring_view_consume(&f.view, collect, &s), 1);
	CHECK_U64(f.consumer, busy);
	CHECK_U64(ring_view_pending(&f.view), 32);
	put_header(&f, busy, 6);
	CHECK_U64(ring_view_consume(&f.view, collect, &s), 2);
	CHECK_U64(s.n, 3);
	CHECK(bytes_are(s.bytes[1], 6, 0x20));
	CHECK(bytes_are(s.bytes[2], 3, 0x30));
	CHECK_U64(f.consumer, f.producer);
}

/* A pass takes what was committed when it began, however fast records keep coming. */
struct refill {
	struct fake_ring *f;
	size_t n;
};

static void produce_while_read(void *ctx, const void *data, size_t size)
{
	struct refill *r = ctx;

	(void)data;
	(void)size;
	r->n++;
	if (r->f->producer - r->f->consumer < SIZE - 16)
		produce(r->f, 1, 0x70, 0);
}

static void test_a_pass_ends_at_the_producer_it_began_with(void)
{
	struct fake_ring f;
	struct refill r = {.f = &f};

	fake_init(&f, 0);
	produce(&f, 1, 0x70, 0);
	produce(&f, 1, 0x70, 0);
	CHECK_U64(ring_view_consume(&f.view, produce_while_read, &r), 2);
	CHECK_U64(r.n, 2);
	CHECK_U64(f.consumer, 32);
	CHECK_U64(ring_view_pending(&f.view), 32); /* the two written meanwhile: next pass */
}

static void test_discarded_records_are_skipped(void)
{
	struct fake_ring f;
	struct seen s = {};

	fake_init(&f, 8);
	produce(&f, 9, 0x50, DISCARD);
	produce(&f, 2, 0x60, 0);
	CHECK_U64(ring_view_consume(&f.view, collect, &s), 1);
	CHECK_U64(s.n, 1);
	CHECK_U64(s.sizes[0], 2);
	CHECK(bytes_are(s.bytes[0], 2, 0x60));
	CHECK_U64(f.consumer, 8 + 24 + 16);
}

int main(void)
{
	RUN(test_records_in_order_and_consumer_moved_8_aligned);
	RUN(test_a_record_across_the_end_reads_whole);
	RUN(test_busy_stops_until_committed);
	RUN(test_discarded_records_are_skipped);
	RUN(test_a_pass_ends_at_the_producer_it_began_with);
	return TEST_EXIT();
}
