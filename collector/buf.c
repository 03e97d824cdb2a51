/* SPDX-License-Identifier: Apache-2.0 */
#include "buf.h"

#include "memory_budget.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ct_buf_reserve_upto(struct ct_buf *b, size_t extra, size_t max)
{
	size_t cap;
	uint8_t *p;

	if (b->failed)
		return false;
	if (b->len + extra <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra)
		cap *= 2;
	if (cap > max && max >= b->len + extra)
		cap = max;
	p = b->account ? ct_mem_realloc(b->account, b->data, cap) : realloc(b->data, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

uint8_t *ct_buf_extend(struct ct_buf *b, size_t n)
{
	uint8_t *p;

	if (!ct_buf_reserve(b, n))
		return NULL;
	p = b->data + b->len;
	b->len += n;
	return p;
}

void ct_buf_put_u64(struct ct_buf *b, uint64_t v)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930"
				    "31323334353637383940414243444546474849505152535455565758596061"
				    "62636465666768697071727374757677787980818283848586878889909192"
				    "93949596979899";
	char digits[20];
	size_t n = sizeof(digits);

	/* two digits per division: timestamps have 19 */
	while (v >= 100) {
		n -= 2;
		memcpy(digits + n, pairs + (v % 100) * 2, 2);
		v /= 100;
	}
	if (v >= 10) {
		n -= 2;
		memcpy(digits + n, pairs + v * 2, 2);
	} else {
		digits[--n] = (char)('0' + v);
	}
	ct_buf_put(b, digits + n, sizeof(digits) - n);
}

void ct_buf_put_i64(struct ct_buf *b, int64_t v)
{
	if (v < 0) {
		ct_buf_putc(b, '-');
		ct_buf_put_u64(b, (uint64_t)0 - (uint64_t)v);
		return;
	}
	ct_buf_put_u64(b, (uint64_t)v);
}

void ct_buf_printf(struct ct_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !ct_buf_reserve(b, (size_t)n + 1))
		return;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void ct_buf_reset(struct ct_buf *b)
{
	b->len = 0;
	b->failed = false;
}

void ct_buf_free(struct ct_buf *b)
{
	if (b->account)
		ct_mem_free(b->account, b->data);
	else
		free(b->data);
	*b = (struct ct_buf){.account = b->account};
}
