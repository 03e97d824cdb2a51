/* SPDX-License-Identifier: Apache-2.0 */
/* A growable byte buffer for building output records. Allocation failure is sticky. */
#ifndef CT_BUF_H
#define CT_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ct_buf {
	uint8_t *data;
	size_t len, cap;
	bool failed; /* an append did not fit in memory; contents are incomplete */
};

void ct_buf_put(struct ct_buf *b, const void *p, size_t n);
void ct_buf_putc(struct ct_buf *b, char c);
void ct_buf_puts(struct ct_buf *b, const char *s);
void ct_buf_printf(struct ct_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append n bytes to be written by the caller; NULL when out of memory. */
uint8_t *ct_buf_extend(struct ct_buf *b, size_t n);
void ct_buf_reset(struct ct_buf *b);
void ct_buf_free(struct ct_buf *b);

#endif
