/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the HTTP/1 parser. Byte 0 picks requests or responses and how the rest is cut
 * into feeds; a cut can also be a gap. Nothing may crash, leak or hit undefined behaviour.
 */
#include <stddef.h>
#include <stdint.h>

#include "http1_parser.h"

static enum http1_body on_head(void *ud, const struct http1_head *h)
{
	(void)ud;
	return http1_default_body(h);
}

static void on_body(void *ud, const uint8_t *data, size_t len)
{
	volatile uint8_t sink = 0;

	(void)ud;
	for (size_t i = 0; data && i < len; i++) /* touch every byte handed out */
		sink ^= data[i];
	(void)sink;
}

static void on_end(void *ud, const struct http1_header *t, size_t n)
{
	(void)ud;
	for (size_t i = 0; i < n; i++)
		(void)t[i].name[t[i].name_len - 1];
}

static void on_error(void *ud, const char *reason)
{
	(void)ud;
	(void)reason;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct http1_callbacks cb = {on_head, on_body, on_end, on_error};
	struct http1_limits limits = {.max_head = 4096, .max_start_line = 1024, .max_headers = 32};
	struct http1_parser p;
	size_t step, at = 1;

	if (size < 1)
		return 0;
	http1_parser_init(&p, data[0] & 1, &limits, &cb, NULL);
	step = 1 + (data[0] >> 1);
	while (at < size) {
		size_t n = size - at < step ? size - at : step;

		if ((data[at] & 0xf0) == 0xf0 && (data[0] & 0x80))
			http1_gap(&p, data[at] & 0x0f);
		http1_feed(&p, data + at, n);
		at += n;
	}
	http1_finish(&p);
	http1_parser_free(&p);
	return 0;
}
