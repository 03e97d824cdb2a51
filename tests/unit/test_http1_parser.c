/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1 parser, table-driven. Every case is fed whole, split at every point, byte by byte and
 * in random chunks: the events must be identical each time.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "ct_test.h"
#include "http1_parser.h"

struct log {
	char text[8192];
	bool head_request; /* the response being parsed answers a HEAD request */
	bool connect_request;
};

static void log_add(struct log *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_add(struct log *l, const char *fmt, ...)
{
	size_t used = strlen(l->text);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->text + used, sizeof(l->text) - used, fmt, ap);
	va_end(ap);
}

static enum http1_body on_head(void *ud, const struct http1_head *h)
{
	struct log *l = ud;

	if (h->request)
		log_add(l, "H:%.*s %.*s 1.%d", (int)h->method_len, h->method, (int)h->target_len,
			h->target, h->minor_version);
	else
		log_add(l, "H:%d %.*s 1.%d", h->status, (int)h->reason_len, h->reason,
			h->minor_version);
	for (size_t i = 0; i < h->n_headers; i++)
		log_add(l, " [%.*s=%.*s]", (int)h->headers[i].name_len, h->headers[i].name,
			(int)h->headers[i].value_len, h->headers[i].value);
	log_add(l, "|");
	if (!h->request && l->head_request)
		return HTTP1_BODY_NONE;
	if (!h->request && l->connect_request && h->status / 100 == 2)
		return HTTP1_BODY_TUNNEL;
	return http1_default_body(h);
}

static void on_body(void *ud, const uint8_t *data, size_t len)
{
	struct log *l = ud;

	/* Bodies arrive in pieces that depend on the split: log bytes one by one. */
	if (!data) {
		log_add(l, "{gap %zu}", len);
		return;
	}
	for (size_t i = 0; i < len; i++)
		log_add(l, "%c", data[i]);
}

static void on_end(void *ud, const struct http1_header *t, size_t n)
{
	struct log *l = ud;

	log_add(l, "|E");
	for (size_t i = 0; i < n; i++)
		log_add(l, " [%.*s=%.*s]", (int)t[i].name_len, t[i].name, (int)t[i].value_len,
			t[i].value);
	log_add(l, "|");
}

static void on_error(void *ud, const char *reason)
{
	log_add(ud, "X:%s|", reason);
}

static const struct http1_callbacks callbacks = {on_head, on_body, on_end, on_error};

struct case_ {
	const char *name;
	bool requests;
	const char *input;
	const char *expected;
	bool finish; /* the stream ends after the input */
	bool head_request, connect_request;
	size_t max_headers;
};

static const struct case_ cases[] = {
    {"get", true, "GET /a?b=1 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n",
     "H:GET /a?b=1 1.1 [Host=x] [Accept=*/*]||E|"},
    {"post with length", true, "POST /u HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
     "H:POST /u 1.1 [Content-Length=5]|hello|E|"},
    {"chunked with extensions and trailers", true,
     "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
     "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n",
     "H:POST /c 1.1 [Transfer-Encoding=chunked]|hello world|E [X-Sum=42]|"},
    {"chunked without trailers", false,
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
     "H:200 OK 1.1 [Transfer-Encoding=gzip, chunked]|abc|E|"},
    {"pipelined", true,
     "GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nokGET /3 "
     "HTTP/1.0\r\n\r\n",
     "H:GET /1 1.1||E|H:POST /2 1.1 [Content-Length=2]|ok|E|H:GET /3 1.0||E|"},
    {"leading empty lines and bare LF", true, "\r\n\nGET / HTTP/1.1\nHost: y\n\n",
     "H:GET / 1.1 [Host=y]||E|"},
    {"response with length", false, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
     "H:200 OK 1.1 [Content-Length=3]|abc|E|"},
    {"204 and 304 have no body", false,
     "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
     "H:204 No Content 1.1||E|H:304 Not Modified 1.1 [Content-Length=9]||E|"},
    {"response to HEAD", false, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
     "H:200 OK 1.1 [Content-Length=9]||E|", false, true},
    {"interim 100 then final", false,
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nz",
     "H:100 Continue 1.1||E|H:201 Created 1.1 [Content-Length=1]|z|E|"},
    {"status without reason", false, "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
     "H:200  1.1 [Content-Length=0]||E|"},
    {"101 upgrade is a tunnel", false,
     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
     "H:101 Switching Protocols 1.1 [Upgrade=websocket]||E|"},
    {"CONNECT 200 is a tunnel", false, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01",
     "H:200 Connection established 1.1||E|", false, false, true},
    {"body until close", false, "HTTP/1.0 200 OK\r\n\r\nall of it", "H:200 OK 1.0|all of it|E|",
     true},
    {"stream ends inside a body", true, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
     "H:POST / 1.1 [Content-Length=10]|abcX:truncated: stream ended inside a message|", true},
    {"obsolete folding", true, "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
     "X:malformed: obsolete line folding|"},
    {"bad method", true, "G(T / HTTP/1.1\r\n\r\n", "X:malformed: invalid request method|"},
    {"bad version", true, "GET / HTTP/2.0\r\n\r\n", "X:malformed: invalid HTTP version|"},
    {"bad header name", true, "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
     "X:malformed: invalid header name|"},
    {"control character in value", true, "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n",
     "X:malformed: control character in header value|"},
    {"invalid content-length", true, "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
     "X:malformed: invalid content-length|"},
    {"conflicting content-length", true,
     "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
     "X:malformed: conflicting content-length|"},
    {"transfer-encoding without chunked", true,
     "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
     "X:malformed: transfer-encoding without chunked|"},
    {"invalid chunk size", false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
     "H:200 OK 1.1 [Transfer-Encoding=chunked]|X:malformed: invalid chunk size|"},
    {"missing CRLF after chunk", false,
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXY",
     "H:200 OK 1.1 [Transfer-Encoding=chunked]|aX:malformed: missing CRLF after chunk data|"},
    {"too many headers", true, "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
     "X:malformed: too many headers|", false, false, false, 2},
    {"resynchronises after malformed", true, "BROKEN\r\n\r\njunk\r\nGET /next HTTP/1.1\r\n\r\n",
     "X:malformed: invalid request method|H:GET /next 1.1||E|"},
};

static void run(const struct case_ *c, const size_t *cuts, size_t n_cuts, struct log *l)
{
	struct http1_limits limits = {.max_headers = c->max_headers};
	struct http1_parser p;
	size_t len = strlen(c->input), from = 0;

	memset(l, 0, sizeof(*l));
	l->head_request = c->head_request;
	l->connect_request = c->connect_request;
	http1_parser_init(&p, c->requests, &limits, &callbacks, l);
	for (size_t i = 0; i <= n_cuts; i++) {
		size_t to = i < n_cuts ? cuts[i] : len;

		CHECK(http1_feed(&p, (const uint8_t *)c->input + from, to - from) == 0);
		from = to;
	}
	if (c->finish)
		http1_finish(&p);
	http1_parser_free(&p);
}

static void test_cases_at_every_split(void)
{
	struct log l;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct case_ *c = &cases[k];
		size_t len = strlen(c->input);
		size_t *cuts = malloc((len + 1) * sizeof(*cuts));

		run(c, NULL, 0, &l);
		if (strcmp(l.text, c->expected)) {
			fprintf(stderr, "case '%s' whole:\n  got      %s\n  expected %s\n", c->name,
				l.text, c->expected);
			ct_test_failures++;
			free(cuts);
			continue;
		}
		for (size_t cut = 1; cut < len; cut++) { /* every split into two */
			run(c, &cut, 1, &l);
			if (strcmp(l.text, c->expected)) {
				fprintf(stderr, "case '%s' split at %zu:\n  got %s\n", c->name, cut,
					l.text);
				ct_test_failures++;
				break;
			}
		}
		for (size_t i = 0; i + 1 < len; i++) /* byte by byte */
			cuts[i] = i + 1;
		run(c, cuts, len ? len - 1 : 0, &l);
		if (strcmp(l.text, c->expected)) {
			fprintf(stderr, "case '%s' byte by byte:\n  got %s\n", c->name, l.text);
			ct_test_failures++;
		}
		for (int round = 0; round < 50; round++) { /* random chunks */
			size_t n = 0, at = 0;

			while (len && (at += 1 + (size_t)rand() % 7) < len)
				cuts[n++] = at;
			run(c, cuts, n, &l);
			if (strcmp(l.text, c->expected)) {
				fprintf(stderr, "case '%s' random chunks:\n  got %s\n", c->name,
					l.text);
				ct_test_failures++;
				break;
			}
		}
		free(cuts);
	}
}

static void test_limits(void)
{
	struct http1_limits limits = {.max_head = 64, .max_start_line = 32};
	struct http1_parser p;
	struct log l = {};
	char big[200];

	memset(big, 'a', sizeof(big));
	http1_parser_init(&p, true, &limits, &callbacks, &l);
	http1_feed(&p, (const uint8_t *)"GET /", 5);
	http1_feed(&p, (const uint8_t *)big, sizeof(big));
	CHECK_STR(l.text, "X:malformed: start line too long|");
	http1_parser_free(&p);

	memset(&l, 0, sizeof(l));
	http1_parser_init(&p, true, &limits, &callbacks, &l);
	http1_feed(&p, (const uint8_t *)"GET / HTTP/1.1\r\nA: ", 19);
	http1_feed(&p, (const uint8_t *)big, 60);
	CHECK_STR(l.text, "X:malformed: head too large|");
	http1_parser_free(&p);
}

static void test_gap_inside_known_body_keeps_sync(void)
{
	struct http1_parser p;
	struct log l = {};
	const char *a = "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc";

	http1_parser_init(&p, true, NULL, &callbacks, &l);
	http1_feed(&p, (const uint8_t *)a, strlen(a));
	CHECK(http1_gap(&p, 4)); /* bytes 3..6 of the body lost */
	http1_feed(&p, (const uint8_t *)"hijGET /n HTTP/1.1\r\n\r\n", 22);
	CHECK_STR(l.text, "H:POST / 1.1 [Content-Length=10]|abc{gap 4}hij|E|H:GET /n 1.1||E|");
	http1_parser_free(&p);
}

static void test_gap_in_head_resynchronises(void)
{
	struct http1_parser p;
	struct log l = {};

	http1_parser_init(&p, true, NULL, &callbacks, &l);
	http1_feed(&p, (const uint8_t *)"GET /a HTTP/1.1\r\nHo", 19);
	CHECK(!http1_gap(&p, 100));
	/* the next segment starts mid-message; the next request after it is found */
	http1_feed(&p, (const uint8_t *)"st: x\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 28);
	CHECK_STR(l.text, "H:GET /b 1.1||E|");
	/* a segment that starts exactly at a message start right after the gap */
	CHECK(!http1_gap(&p, 5));
	http1_feed(&p, (const uint8_t *)"GET /c HTTP/1.1\r\n\r\n", 19);
	CHECK_STR(l.text, "H:GET /b 1.1||E|H:GET /c 1.1||E|");
	http1_parser_free(&p);
}

/*
 * Header values are checked many bytes at a time (collector/text_scan.h): every byte value, at
 * the start, middle and end of values that take each path (bytes, words, SSE2 blocks and 64-byte
 * steps), is accepted exactly when RFC 9110 allows it in a field value (HTAB, SP, visible ASCII,
 * obs-text).
 */
static void test_every_byte_in_header_values(void)
{
	static const size_t lengths[] = {5, 12, 40, 100};

	for (size_t k = 0; k < sizeof(lengths) / sizeof(lengths[0]); k++) {
		size_t len = lengths[k], positions[] = {0, len / 2, len - 1};

		for (size_t j = 0; j < 3; j++)
			for (unsigned b = 0; b < 256; b++) {
				char input[160], value[128], want[256];
				size_t n = 0, from = 0, to = len;
				bool allowed = b == '\t' || (b >= 0x20 && b != 0x7f);
				struct http1_parser p;
				struct log l = {};

				if (b == '\n')
					continue; /* it ends the line */
				memset(value, 'v', len);
				value[positions[j]] = (char)b;
				n += (size_t)sprintf(input, "GET / HTTP/1.1\r\nA: ");
				memcpy(input + n, value, len);
				n += len;
				memcpy(input + n, "\r\n\r\n", 4);
				n += 4;
				/* leading and trailing SP and HTAB are not part of the value */
				while (from < to && (value[from] == ' ' || value[from] == '\t'))
					from++;
				while (to > from && (value[to - 1] == ' ' || value[to - 1] == '\t'))
					to--;
				if (allowed)
					snprintf(want, sizeof(want), "H:GET / 1.1 [A=%.*s]||E|",
						 (int)(to - from), value + from);
				else
					snprintf(want, sizeof(want),
						 "X:malformed: control character in header value|");
				http1_parser_init(&p, true, NULL, &callbacks, &l);
				http1_feed(&p, (const uint8_t *)input, n);
				if (strcmp(l.text, want) != 0)
					fprintf(stderr, "length %zu, byte 0x%02x at %zu\n", len, b,
						positions[j]);
				CHECK_STR(l.text, want);
				http1_parser_free(&p);
			}
	}
}

/* Header names are tokens (RFC 9110): every byte value in a name against the rule's own list. */
static void test_every_byte_in_header_names(void)
{
	for (unsigned b = 1; b < 256; b++) {
		char input[64], want[128];
		bool token = (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') ||
			     (b >= 'a' && b <= 'z') || strchr("!#$%&'*+-.^_`|~", (int)b);
		struct http1_parser p;
		struct log l = {};
		int n;

		if (b == '\n')
			continue; /* it ends the line */
		n = snprintf(input, sizeof(input), "GET / HTTP/1.1\r\nA%c: v\r\n\r\n", (char)b);
		if (token)
			snprintf(want, sizeof(want), "H:GET / 1.1 [A%c=v]||E|", (char)b);
		else if (b == ':')
			snprintf(want, sizeof(want), "H:GET / 1.1 [A=: v]||E|");
		else
			snprintf(want, sizeof(want), "X:malformed: invalid header name|");
		http1_parser_init(&p, true, NULL, &callbacks, &l);
		http1_feed(&p, (const uint8_t *)input, (size_t)n);
		if (strcmp(l.text, want) != 0)
			fprintf(stderr, "byte 0x%02x in a header name\n", b);
		CHECK_STR(l.text, want);
		http1_parser_free(&p);
	}
}

int main(void)
{
	srand(1);
	RUN(test_cases_at_every_split);
	RUN(test_limits);
	RUN(test_every_byte_in_header_values);
	RUN(test_every_byte_in_header_names);
	RUN(test_gap_inside_known_body_keeps_sync);
	RUN(test_gap_in_head_resynchronises);
	return TEST_EXIT();
}
