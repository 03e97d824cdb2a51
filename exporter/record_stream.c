/* SPDX-License-Identifier: Apache-2.0 */
#include "record_stream.h"

#include <errno.h>
#include <string.h>

#define VARINT_MAX 10

/* The length prefix at p (n bytes there): 1 with *ret_len and *ret_size, 0 when incomplete,
 * -EBADMSG when it is no varint. */
static int length_prefix(const uint8_t *p, size_t n, uint64_t *ret_len, size_t *ret_size)
{
	uint64_t len = 0;

	for (size_t i = 0; i < n && i < VARINT_MAX; i++) {
		len |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*ret_len = len;
			*ret_size = i + 1;
			return 1;
		}
	}
	return n >= VARINT_MAX ? -EBADMSG : 0;
}

int record_stream_feed(struct record_stream *rs, const uint8_t *p, size_t n,
		       record_stream_fn on_record, void *ctx, uint64_t *oversized)
{
	while (n) {
		const uint8_t *q;
		size_t have, prefix;
		uint64_t len;
		int r;

		if (rs->skip) {
			size_t k = rs->skip < n ? (size_t)rs->skip : n;

			rs->skip -= k;
			p += k;
			n -= k;
			continue;
		}
		/* whole records straight from the input when nothing is pending */
		q = rs->pending.len ? rs->pending.data : p;
		have = rs->pending.len ? rs->pending.len : n;
		r = length_prefix(q, have, &len, &prefix);
		if (r < 0)
			return r;
		if (r > 0 && len > rs->max_record) {
			(*oversized)++;
			rs->skip = len;
			if (rs->pending.len) { /* the prefix was pending: what followed it goes */
				size_t taken = rs->pending.len - prefix;

				rs->skip -= taken < rs->skip ? taken : rs->skip;
				ct_buf_reset(&rs->pending);
			} else {
				p += prefix;
				n -= prefix;
			}
			continue;
		}
		if (!rs->pending.len && r > 0 && prefix + len <= n) {
			on_record(ctx, p + prefix, (size_t)len);
			p += prefix + len;
			n -= prefix + (size_t)len;
			continue;
		}
		if (!rs->pending.len) { /* an incomplete record: all that there is */
			ct_buf_put(&rs->pending, p, n);
			p += n;
			n = 0;
		} else {
			/* complete the pending one: its prefix first, then up to its end */
			size_t want = r > 0 ? prefix + (size_t)len - rs->pending.len : 1;
			size_t k = want < n ? want : n;

			ct_buf_put(&rs->pending, p, k);
			p += k;
			n -= k;
		}
		if (rs->pending.failed)
			return -ENOMEM;
		r = length_prefix(rs->pending.data, rs->pending.len, &len, &prefix);
		if (r < 0)
			return r;
		if (r > 0 && len > rs->max_record)
			continue; /* handled at the top of the loop */
		if (r > 0 && rs->pending.len == prefix + len) {
			on_record(ctx, rs->pending.data + prefix, (size_t)len);
			ct_buf_reset(&rs->pending);
		}
	}
	return 0;
}

void record_stream_free(struct record_stream *rs)
{
	ct_buf_free(&rs->pending);
}
