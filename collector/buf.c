/* SPDX-License-Identifier: Apache-2.0 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(struct ct_buf *b, size_t extra)
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
	p = realloc(b->data, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void ct_buf_put(struct ct_buf *b, const void *p, size_t n)
{
	if (n && reserve(b, n)) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
	}
}

uint8_t *ct_buf_extend(struct ct_buf *b, size_t n)
{
	uint8_t *p;

	if (!reserve(b, n))
		return NULL;
	p = b->data + b->len;
	b->len += n;
	return p;
}

void ct_buf_putc(struct ct_buf *b, char c)
{
	ct_buf_put(b, &c, 1);
}

void ct_buf_puts(struct ct_buf *b, const char *s)
{
	ct_buf_put(b, s, strlen(s));
}

void ct_buf_printf(struct ct_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t)n + 1))
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
	free(b->data);
	*b = (struct ct_buf){};
}
