/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Header redaction. Sensitive values are replaced by "[redacted:<8 hex>]", a keyed hash
 * (SipHash-2-4, key random per collector run) so equal values stay comparable within one capture
 * while short secrets cannot be recovered by hashing guesses offline.
 */
#ifndef CT_REDACT_H
#define CT_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REDACT_MAX_NAMES  32
#define REDACT_MARKER_LEN 21 /* "[redacted:0123abcd]" + NUL, rounded */

struct redactor {
	bool enabled;
	uint8_t key[16];
	char names[REDACT_MAX_NAMES][64]; /* lower case */
	size_t n_names;
};

/* Authorization, Proxy-Authorization, Cookie, Set-Cookie; key from getrandom(). */
int redactor_init(struct redactor *r);

/* Also redact this header name. -E2BIG when full, -EINVAL when too long or empty. */
int redactor_add(struct redactor *r, const char *name);

bool redactor_applies(const struct redactor *r, const char *name, size_t len);

/* Write the marker for value into out (REDACT_MARKER_LEN bytes); returns its length. */
size_t redactor_mark(const struct redactor *r, const uint8_t *value, size_t len, char *out);

uint64_t siphash24(const uint8_t key[16], const uint8_t *data, size_t len);

#endif
