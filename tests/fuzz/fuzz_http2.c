/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: HTTP/2 frames and HPACK (libnghttp2's inflater). The input is a sequence of
 * pieces: a control byte (direction, length, or a gap) and the bytes to feed.
 */
#include <stddef.h>
#include <stdint.h>

#include "http2_conn.h"
#include "redact.h"

static void emit(void *ud, struct http_txn *t)
{
	(void)ud;
	http_txn_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	struct redactor redactor;
	struct h2_conn_config config = {.body_limit = 256, .redactor = &redactor};
	struct h2_conn *h;
	size_t at = 0;

	redactor_init(&redactor);
	if (h2_conn_new(&config, emit, NULL, &h) < 0)
		return 0;
	h2_conn_feed(h, true, (const uint8_t *)preface, sizeof(preface) - 1, 1);
	while (at < size) {
		uint8_t control = data[at++];
		size_t n = control & 0x3f;

		if ((control & 0xc0) == 0xc0) {
			h2_conn_gap(h, control & 1, n + 1);
			continue;
		}
		if (n > size - at)
			n = size - at;
		h2_conn_feed(h, control & 0x40, data + at, n, at);
		at += n;
	}
	h2_conn_finish(h);
	h2_conn_free(h);
	return 0;
}
