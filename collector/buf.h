/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's one growable byte buffer: output records, a drain pass's records, and what the
 * parsers hold of a connection (heads, header blocks, bodies, bytes before the protocol is
 * known). Those last ones set account: their memory is then charged to the memory budget and to
 * that account (memory_budget.h). Allocation failure is sticky until reset.
 */
#ifndef CT_BUF_H
#define CT_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mem_account;

struct ct_buf {
	uint8_t *data;
	size_t len, cap;
	bool failed;		     /* an append did not fit in memory; contents are incomplete */
	struct mem_account *account; /* non-NULL: charged there (set before the first append) */
};

/* Make room for extra more bytes, never growing past max bytes (len + extra <= max); false (and
 * failed set) when out of memory. */
bool ct_buf_reserve_upto(struct ct_buf *b, size_t extra, size_t max);

static inline bool ct_buf_reserve(struct ct_buf *b, size_t extra)
{
	return ct_buf_reserve_upto(b, extra, SIZE_MAX);
}

/* The appends run for every byte of JSON output: the common case stays inline. */
static inline void ct_buf_put(struct ct_buf *b, const void *p, size_t n)
{
	if (n && (b->len + n <= b->cap || ct_buf_reserve(b, n)) && !b->failed) {
		__builtin_memcpy(b->data + b->len, p, n);
		b->len += n;
	}
}

static inline void ct_buf_putc(struct ct_buf *b, char c)
{
	if ((b->len < b->cap || ct_buf_reserve(b, 1)) && !b->failed)
		b->data[b->len++] = (uint8_t)c;
}

static inline void ct_buf_puts(struct ct_buf *b, const char *s)
{
	ct_buf_put(b, s, __builtin_strlen(s));
}

/* Decimal, without printf. */
void ct_buf_put_u64(struct ct_buf *b, uint64_t v);
void ct_buf_put_i64(struct ct_buf *b, int64_t v);
void ct_buf_printf(struct ct_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append n bytes to be written by the caller; NULL when out of memory. */
uint8_t *ct_buf_extend(struct ct_buf *b, size_t n);
void ct_buf_reset(struct ct_buf *b);
/* Its memory back (the account stays): an idle connection keeps no buffer. */
void ct_buf_free(struct ct_buf *b);

#endif
