/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs of plain text, found many bytes at a time: bodies, header values and JSON strings are
 * mostly printable ASCII, and the collector scans every byte of them (the HTTP/1 parser to
 * validate header values, the JSON writer to find what needs no escape).
 */
#ifndef CT_TEXT_SCAN_H
#define CT_TEXT_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * Eight bytes at a time (bodies and header values are mostly printable ASCII): a word whose
 * every byte is in 0x20..0x7e, and for JSON strings none is '"' or '\\', is copied as is.
 * Bit tricks from "Bit Twiddling Hacks": a high bit per byte below n (n <= 128), or equal to 0.
 */
#define BYTES_ONES  0x0101010101010101ULL
#define BYTES_HIGHS 0x8080808080808080ULL

static inline uint64_t bytes_below(uint64_t x, uint8_t n)
{
	return (x - BYTES_ONES * n) & ~x & BYTES_HIGHS;
}

static inline uint64_t bytes_zero(uint64_t x)
{
	return bytes_below(x, 1);
}

static inline uint64_t word_at(const uint8_t *s)
{
	uint64_t x;

	memcpy(&x, s, sizeof(x));
	return x;
}

#ifdef __SSE2__
/*
 * Sixteen bytes at a time where SSE2 is there (every x86-64): the mask of those in 0x20..0x7e
 * (signed compares: bytes from 0x80 are negative), less '"' and '\\' for JSON strings.
 */
static inline __m128i printable_ok16(const uint8_t *s, bool json_plain)
{
	__m128i v = _mm_loadu_si128((const __m128i *)s);
	__m128i ok = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(0x1f)),
				   _mm_cmplt_epi8(v, _mm_set1_epi8(0x7f)));

	if (json_plain)
		ok = _mm_andnot_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
						   _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
				      ok);
	return ok;
}

static inline unsigned printable_mask16(const uint8_t *s, bool json_plain)
{
	return (unsigned)_mm_movemask_epi8(printable_ok16(s, json_plain));
}

/* Are all 64 bytes from s plain? One mask and one branch for four blocks (bodies are long). */
static inline bool printable_all64(const uint8_t *s, bool json_plain)
{
	__m128i ok = _mm_and_si128(
	    _mm_and_si128(printable_ok16(s, json_plain), printable_ok16(s + 16, json_plain)),
	    _mm_and_si128(printable_ok16(s + 32, json_plain), printable_ok16(s + 48, json_plain)));

	return _mm_movemask_epi8(ok) == 0xffff;
}
#endif

/*
 * The bytes of a word that are not plain: the lowest flagged byte is always the first odd one
 * (a borrow only runs upwards, so bytes above it may be flagged wrongly, never below).
 */
static inline uint64_t word_odd(const uint8_t *s, bool json_plain)
{
	uint64_t x = word_at(s);
	uint64_t odd =
	    bytes_below(x, 0x20) | (x & BYTES_HIGHS) | bytes_zero(x ^ (BYTES_ONES * 0x7f));

	if (json_plain)
		odd |= bytes_zero(x ^ (BYTES_ONES * '"')) | bytes_zero(x ^ (BYTES_ONES * '\\'));
	return odd;
}

/*
 * How many bytes from s on are in 0x20..0x7e (with json_plain, not '"' or '\\' either, the
 * bytes a JSON string takes as they are): 64 then sixteen at a time (SSE2), else eight; the rest in
 * one block or word that overlaps the last (its bytes before the rest are known plain), so no byte
 * loop but for strings under eight bytes.
 */
static inline size_t text_printable_prefix(const uint8_t *s, size_t len, bool json_plain)
{
	size_t i = 0;

#ifdef __SSE2__
	if (len >= 16) {
		unsigned mask;

		while (i + 64 <= len && printable_all64(s + i, json_plain))
			i += 64; /* a step that is not all plain is found block by block below */
		for (; i + 16 <= len; i += 16)
			if ((mask = printable_mask16(s + i, json_plain)) != 0xffff)
				return i + (size_t)__builtin_ctz(~mask);
		if (i == len)
			return len;
		mask = printable_mask16(s + len - 16, json_plain);
		return mask == 0xffff ? len : len - 16 + (size_t)__builtin_ctz(~mask);
	}
#endif
	if (len >= 8) {
		uint64_t odd;

		for (; i + 8 <= len; i += 8)
			if ((odd = word_odd(s + i, json_plain)))
				return i + (size_t)__builtin_ctzll(odd) / 8;
		if (i == len)
			return len;
		odd = word_odd(s + len - 8, json_plain);
		return odd ? len - 8 + (size_t)__builtin_ctzll(odd) / 8 : len;
	}
	while (i < len && s[i] >= 0x20 && s[i] < 0x7f &&
	       !(json_plain && (s[i] == '"' || s[i] == '\\')))
		i++;
	return i;
}

#endif
