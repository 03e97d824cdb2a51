/* SPDX-License-Identifier: Apache-2.0 */
#include "record_batch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cleartap/events.h"
#include "record_decode.h"

/* A data record by record_order_time(), any other by its timestamp. */
static uint64_t order_time(const struct cleartap_record_header *hdr, const void *record,
			   size_t size)
{
	struct cleartap_tls_data data;

	if (hdr->type != CLEARTAP_REC_TLS_DATA || size < sizeof(data))
		return hdr->timestamp_ns;
	memcpy(&data, record, sizeof(data)); /* the source need not be aligned */
	return record_order_time(&data);
}

int record_batch_add(struct record_batch *b, const void *record, size_t size)
{
	struct cleartap_record_header hdr;
	uint8_t *copy;

	if (size < sizeof(hdr) || size > UINT32_MAX)
		return -EBADMSG;
	memcpy(&hdr, record, sizeof(hdr)); /* the source need not be aligned */
	/*
	 * A ring sample is the size class the probe reserved (payloads of 1 KiB sit in 4 KiB);
	 * the record says how much of it is valid. Keep only that; validation still sees a
	 * header that claims more than the sample has.
	 */
	if (hdr.size >= sizeof(hdr) && hdr.size < size)
		size = hdr.size;
	/* every copy starts 8-byte aligned, so the records can be read through their structs */
	while (b->data.len % 8)
		ct_buf_putc(&b->data, 0);
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct record_ref *refs = realloc(b->refs, cap * sizeof(*refs));

		if (!refs)
			return -ENOMEM;
		b->refs = refs;
		b->cap = cap;
	}
	b->refs[b->n] = (struct record_ref){.timestamp_ns = order_time(&hdr, record, size),
					    .cpu = hdr.cpu,
					    .size = (uint32_t)size,
					    .offset = b->data.len,
					    .seq = b->n};
	copy = ct_buf_extend(&b->data, size);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, record, size);
	b->n++;
	return 0;
}

static bool before(const struct record_ref *a, const struct record_ref *b)
{
	if (a->timestamp_ns != b->timestamp_ns)
		return a->timestamp_ns < b->timestamp_ns;
	if (a->cpu != b->cpu)
		return a->cpu < b->cpu;
	return a->seq < b->seq;
}

/*
 * Bottom-up merge sort: stable, O(n log n), and no libc qsort, which calls sysinfo() to size
 * its buffer (outside the collector's seccomp allowlist). The input is one sorted run per ring.
 */
void record_batch_sort(struct record_batch *b)
{
	struct record_ref *from = b->refs, *to;

	if (b->n < 2)
		return;
	if (b->scratch_cap < b->n) {
		struct record_ref *s = realloc(b->scratch, b->cap * sizeof(*s));

		if (!s)
			return; /* unsorted is still correct within each ring */
		b->scratch = s;
		b->scratch_cap = b->cap;
	}
	to = b->scratch;
	for (size_t width = 1; width < b->n; width *= 2) {
		for (size_t lo = 0; lo < b->n; lo += 2 * width) {
			size_t mid = lo + width < b->n ? lo + width : b->n;
			size_t hi = lo + 2 * width < b->n ? lo + 2 * width : b->n;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				to[k++] = before(&from[j], &from[i]) ? from[j++] : from[i++];
			while (i < mid)
				to[k++] = from[i++];
			while (j < hi)
				to[k++] = from[j++];
		}
		struct record_ref *t = from;
		from = to;
		to = t;
	}
	if (from != b->refs) {
		/* the sorted copy is in scratch: swap the arrays */
		b->scratch = b->refs;
		b->refs = from;
		size_t c = b->cap;
		b->cap = b->scratch_cap;
		b->scratch_cap = c;
	}
}

const void *record_batch_get(const struct record_batch *b, size_t i, size_t *ret_size)
{
	*ret_size = b->refs[i].size;
	return b->data.data + b->refs[i].offset;
}

void record_batch_reset(struct record_batch *b)
{
	ct_buf_reset(&b->data);
	b->n = 0;
}

void record_batch_free(struct record_batch *b)
{
	ct_buf_free(&b->data);
	free(b->refs);
	free(b->scratch);
	b->refs = b->scratch = NULL;
	b->n = b->cap = b->scratch_cap = 0;
}
