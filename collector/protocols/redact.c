/* SPDX-License-Identifier: Apache-2.0 */
#include "redact.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = ROTL(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = ROTL(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = ROTL(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = ROTL(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = ROTL(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = ROTL(v2, 32);                                                                 \
	} while (0)

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* SipHash-2-4 (Aumasson, Bernstein). */
uint64_t siphash24(const uint8_t key[16], const uint8_t *data, size_t len)
{
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i, tail = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(data + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t k = 0; k < tail; k++)
		b |= (uint64_t)data[i + k] << (8 * k);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

int redactor_init(struct redactor *r)
{
	static const char *const defaults[] = {"authorization", "proxy-authorization", "cookie",
					       "set-cookie"};

	memset(r, 0, sizeof(*r));
	r->enabled = true;
	if (getrandom(r->key, sizeof(r->key), 0) != sizeof(r->key))
		return -errno;
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		redactor_add(r, defaults[i]);
	return 0;
}

int redactor_add(struct redactor *r, const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= sizeof(r->names[0]))
		return -EINVAL;
	if (r->n_names == REDACT_MAX_NAMES)
		return -E2BIG;
	for (size_t i = 0; i <= len; i++)
		r->names[r->n_names][i] =
		    (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	r->n_names++;
	return 0;
}

bool redactor_applies(const struct redactor *r, const char *name, size_t len)
{
	if (!r->enabled)
		return false;
	for (size_t i = 0; i < r->n_names; i++)
		if (strlen(r->names[i]) == len && strncasecmp(r->names[i], name, len) == 0)
			return true;
	return false;
}

size_t redactor_mark(const struct redactor *r, const uint8_t *value, size_t len, char *out)
{
	return (size_t)snprintf(out, REDACT_MARKER_LEN, "[redacted:%08x]",
				(unsigned)(siphash24(r->key, value, len) >> 32));
}
