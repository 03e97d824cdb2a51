/* SPDX-License-Identifier: Apache-2.0 */
/* One drain pass, put back in time order across rings: stable, any size. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "ct_test.h"
#include "record_batch.h"
#include "cleartap/events.h"

static void add(struct record_batch *b, uint64_t ts, uint32_t cpu, uint32_t tag)
{
	struct cleartap_record_header h = {
	    .type = CLEARTAP_REC_TLS_FREE, .timestamp_ns = ts, .cpu = cpu, .tid = tag};

	CHECK(record_batch_add(b, &h, sizeof(h)) == 0);
}

static uint32_t tag_at(const struct record_batch *b, size_t i)
{
	size_t size;
	const struct cleartap_record_header *h = record_batch_get(b, i, &size);

	return h->tid;
}

static void test_two_rings_interleave(void)
{
	struct record_batch b = {};

	/* ring 0 drained first, ring 1 second */
	add(&b, 10, 0, 1);
	add(&b, 30, 0, 3);
	add(&b, 50, 0, 5);
	add(&b, 20, 1, 2);
	add(&b, 40, 1, 4);
	add(&b, 40, 1, 6); /* same time, same CPU: arrival order kept */
	static const uint32_t expected[] = {1, 2, 3, 4, 6, 5};

	record_batch_sort(&b);
	for (size_t i = 0; i < b.n; i++)
		CHECK_U64(tag_at(&b, i), expected[i]);
	record_batch_free(&b);
}

static void test_short_records_are_refused(void)
{
	struct record_batch b = {};
	uint8_t tiny[8] = {};

	CHECK(record_batch_add(&b, tiny, sizeof(tiny)) == -EBADMSG);
	CHECK_U64(b.n, 0);
	record_batch_free(&b);
}

static void test_large_batches_sort_and_reuse(void)
{
	struct record_batch b = {};

	for (int pass = 0; pass < 3; pass++) {
		uint64_t last = 0;
		bool ordered = true;

		for (uint32_t i = 0; i < 10000; i++)
			add(&b, (uint64_t)(rand() % 5000), (uint32_t)(i % 4), i);
		record_batch_sort(&b);
		for (size_t i = 0; i < b.n; i++) {
			size_t size;
			const struct cleartap_record_header *h = record_batch_get(&b, i, &size);

			ordered &= h->timestamp_ns >= last && size == sizeof(*h);
			last = h->timestamp_ns;
		}
		CHECK(ordered);
		CHECK_U64(b.n, 10000);
		record_batch_reset(&b);
	}
	record_batch_free(&b);
}

/* A write is ordered by its start: the response it caused can be read before it returns. */
static void test_writes_order_by_their_start(void)
{
	struct record_batch b = {};
	struct cleartap_tls_data write = {
	    .hdr = {.type = CLEARTAP_REC_TLS_DATA, .timestamp_ns = 400, .cpu = 0, .tid = 1},
	    .call_start_ns = 100,
	    .direction = CLEARTAP_DIR_WRITE};
	struct cleartap_tls_data read = {
	    .hdr = {.type = CLEARTAP_REC_TLS_DATA, .timestamp_ns = 300, .cpu = 1, .tid = 2},
	    .call_start_ns = 50,
	    .direction = CLEARTAP_DIR_READ};

	CHECK(record_batch_add(&b, &read, sizeof(read)) == 0);
	CHECK(record_batch_add(&b, &write, sizeof(write)) == 0);
	add(&b, 200, 0, 3); /* not data: its timestamp */
	record_batch_sort(&b);
	CHECK_U64(tag_at(&b, 0), 1); /* the write started at 100 */
	CHECK_U64(tag_at(&b, 1), 3);
	CHECK_U64(tag_at(&b, 2), 2); /* the read returned at 300 (it started at 50: irrelevant) */
	record_batch_free(&b);
}

int main(void)
{
	srand(7);
	RUN(test_two_rings_interleave);
	RUN(test_short_records_are_refused);
	RUN(test_large_batches_sort_and_reuse);
	RUN(test_writes_order_by_their_start);
	return TEST_EXIT();
}
