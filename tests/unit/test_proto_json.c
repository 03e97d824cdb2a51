/* SPDX-License-Identifier: Apache-2.0 */
/* proto3 JSON mapping: names, 64-bit strings, base64, enums, defaults omitted, UTF-8 safety. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleartap.pb-c.h"
#include "ct_test.h"
#include "proto_json.h"

static char *to_json(const ProtobufCMessage *m)
{
	struct ct_buf b = {};
	char *s;

	proto_json_write(&b, m);
	ct_buf_putc(&b, '\0');
	s = strdup((char *)b.data);
	ct_buf_free(&b);
	return s;
}

static void test_tls_data_record(void)
{
	Cleartap__V1__Record record = CLEARTAP__V1__RECORD__INIT;
	Cleartap__V1__TlsData data = CLEARTAP__V1__TLS_DATA__INIT;
	Cleartap__V1__ProcessRef process = CLEARTAP__V1__PROCESS_REF__INIT;
	char *json;

	process.pid = 12;
	process.tid = 13;
	process.comm = "curl";
	data.time_unix_nano = 18446744073709551615ULL;
	data.process = &process;
	data.session = 0;
	data.fd = -1;
	data.direction = CLEARTAP__V1__DIRECTION__DIRECTION_READ;
	data.function = "SSL_read";
	data.data.data = (uint8_t *)"foo";
	data.data.len = 3;
	data.call_length = 3;
	record.kind_case = CLEARTAP__V1__RECORD__KIND_TLS_DATA;
	record.tls_data = &data;
	json = to_json(&record.base);
	CHECK_STR(json, "{\"tlsData\":{\"timeUnixNano\":\"18446744073709551615\","
			"\"process\":{\"pid\":12,\"tid\":13,\"comm\":\"curl\"},\"fd\":-1,"
			"\"direction\":\"DIRECTION_READ\",\"function\":\"SSL_read\","
			"\"data\":\"Zm9v\",\"callLength\":\"3\"}}");
	free(json);
}

static void test_base64_padding(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {{"", "\"\""},	  {"f", "\"Zg==\""},	    {"fo", "\"Zm8=\""},
		     {"foo", "\"Zm9v\""}, {"foob", "\"Zm9vYg==\""}, {"\xff\xfe\xfd", "\"//79\""}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ct_buf b = {};

		proto_json_base64(&b, (const uint8_t *)cases[i].in, strlen(cases[i].in));
		ct_buf_putc(&b, '\0');
		CHECK_STR((char *)b.data, cases[i].out);
		ct_buf_free(&b);
	}
}

/* RFC 4648 bit by bit: an encoder that shares nothing with the fast one. */
static void reference_base64(const uint8_t *in, size_t len, char *out)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t bits = len * 8, o = 0;

	out[o++] = '"';
	for (size_t bit = 0; bit < bits; bit += 6) {
		unsigned v = 0;

		for (size_t k = 0; k < 6; k++) {
			size_t b = bit + k;

			v = v << 1 | (b < bits ? (in[b / 8] >> (7 - b % 8)) & 1 : 0);
		}
		out[o++] = alphabet[v];
	}
	while ((o - 1) % 4)
		out[o++] = '=';
	out[o++] = '"';
	out[o] = '\0';
}

/* Every length up to 200 (the six-byte steps and every tail), bytes of every value. */
static void test_base64_against_reference(void)
{
	static uint8_t in[200];
	static char expected[2 * sizeof(in) + 8];
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof(in); i++) {
		x = x * 1103515245 + 12345;
		in[i] = (uint8_t)(x >> 16);
	}
	for (size_t len = 0; len <= sizeof(in); len++) {
		struct ct_buf b = {};

		reference_base64(in, len, expected);
		proto_json_base64(&b, in, len);
		ct_buf_putc(&b, '\0');
		CHECK_STR((char *)b.data, expected);
		ct_buf_free(&b);
	}
}

static void test_strings_are_valid_json_utf8(void)
{
	/* quote, backslash, control, DEL, valid 2-byte, lone continuation, overlong, surrogate */
	static const uint8_t in[] = {'a',  '"',	 '\\', 0x01, '\n', 0x7f, 0xc3, 0xa9,
				     0x80, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 'z'};
	struct ct_buf b = {};

	proto_json_string(&b, in, sizeof(in));
	ct_buf_putc(&b, '\0');
	CHECK_STR((char *)b.data, "\"a\\\"\\\\\\u0001\\n\\u007f\xc3\xa9\\ufffd\\ufffd\\ufffd"
				  "\\ufffd\\ufffd\\ufffdz\"");
	ct_buf_free(&b);
}

static void test_defaults_omitted_and_bools(void)
{
	Cleartap__V1__Record record = CLEARTAP__V1__RECORD__INIT;
	Cleartap__V1__Stats stats = CLEARTAP__V1__STATS__INIT;
	Cleartap__V1__KernelCounters kernel = CLEARTAP__V1__KERNEL_COUNTERS__INIT;
	char *json;

	kernel.drop_ring_full_bytes = 5;
	stats.kernel = &kernel;
	stats.final = 1;
	record.kind_case = CLEARTAP__V1__RECORD__KIND_STATS;
	record.stats = &stats;
	json = to_json(&record.base);
	CHECK_STR(json, "{\"stats\":{\"kernel\":{\"dropRingFullBytes\":\"5\"},\"final\":true}}");
	free(json);
}

/* Text is shown as a string: valid UTF-8, no control characters but tab (CR, LF in bodies). */
static void test_what_is_text(void)
{
	CHECK(proto_json_is_text((const uint8_t *)"127.0.0.1:8443", 14, false));
	CHECK(proto_json_is_text((const uint8_t *)"", 0, false));
	CHECK(proto_json_is_text((const uint8_t *)"a\tb", 3, false));
	CHECK(!proto_json_is_text((const uint8_t *)"a\r\nb", 4, false));
	CHECK(proto_json_is_text((const uint8_t *)"line\r\nline\n", 11, true));
	CHECK(proto_json_is_text((const uint8_t *)"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
				 false));
	CHECK(!proto_json_is_text((const uint8_t *)"a\0b", 3, true));	      /* NUL */
	CHECK(!proto_json_is_text((const uint8_t *)"a\x7f", 2, true));	      /* DEL */
	CHECK(!proto_json_is_text((const uint8_t *)"\x1b[31m", 5, true));     /* ESC */
	CHECK(!proto_json_is_text((const uint8_t *)"\xc3", 1, true));	      /* cut sequence */
	CHECK(!proto_json_is_text((const uint8_t *)"\xc0\xaf", 2, true));     /* overlong */
	CHECK(!proto_json_is_text((const uint8_t *)"\xed\xa0\x80", 3, true)); /* surrogate */
	CHECK(!proto_json_is_text((const uint8_t *)"\xff\xfe", 2, true));
}

/*
 * Strings and text are scanned 64 then sixteen bytes at a time (SSE2), then eight, the rest in
 * one overlapping block or word: every byte value at every position, for lengths that take each
 * path, is told as a byte-wise reading would (and the scan resumes after it at every alignment).
 */
/* A string of len 'a's with byte c at position at, as a byte-wise reading tells it. */
static void check_byte_at(size_t len, uint8_t c, size_t at)
{
	uint8_t in[160];
	char want[160 + 16], esc[8];
	bool printable = c >= 0x20 && c < 0x7f;
	struct ct_buf b = {};

	memset(in, 'a', len);
	in[at] = c;
	CHECK(proto_json_is_text(in, len, false) == (printable || c == '\t'));
	CHECK(proto_json_is_text(in, len, true) ==
	      (printable || c == '\t' || c == '\n' || c == '\r'));
	if (c == '"' || c == '\\')
		snprintf(esc, sizeof(esc), "\\%c", c);
	else if (c == '\n' || c == '\r' || c == '\t')
		snprintf(esc, sizeof(esc), "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
	else if (c < 0x20 || c == 0x7f)
		snprintf(esc, sizeof(esc), "\\u%04x", c);
	else if (c >= 0x80)
		snprintf(esc, sizeof(esc), "\\ufffd"); /* a lone byte is not UTF-8 */
	else
		snprintf(esc, sizeof(esc), "%c", c);
	snprintf(want, sizeof(want), "\"%.*s%s%.*s\"", (int)at, (const char *)in, esc,
		 (int)(len - at - 1), (const char *)in + at + 1);
	proto_json_string(&b, in, len);
	ct_buf_putc(&b, '\0');
	CHECK_STR((char *)b.data, want);
	ct_buf_free(&b);
}

static void test_every_byte_at_every_position(void)
{
	/* two 64-byte steps, a block and a rest the last block overlaps; one step alone; two
	 * 16-byte blocks and an overlapping rest; a word and an overlapping word; one word; bytes
	 */
	static const size_t lengths[] = {150, 64, 45, 15, 12, 8, 5};
	for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++)
		for (unsigned c = 0; c < 256; c++)
			for (size_t at = 0; at < lengths[l]; at++)
				check_byte_at(lengths[l], (uint8_t)c, at);
}

int main(void)
{
	RUN(test_tls_data_record);
	RUN(test_base64_padding);
	RUN(test_base64_against_reference);
	RUN(test_strings_are_valid_json_utf8);
	RUN(test_defaults_omitted_and_bools);
	RUN(test_what_is_text);
	RUN(test_every_byte_at_every_position);
	return TEST_EXIT();
}
