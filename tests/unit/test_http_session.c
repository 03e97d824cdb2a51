/* SPDX-License-Identifier: Apache-2.0 */
/* The session layer: protocol and side detection, HTTP/1 pairing, orphans, opaque sessions. */
#include <stdarg.h>
#include <stdlib.h>

#include "ct_test.h"
#include "http_session.h"
#include "memory_budget.h"

static char log_text[1 << 16];

static void on_txn(void *ud, const struct http_txn *t)
{
	size_t used = strlen(log_text);

	(void)ud;
	snprintf(log_text + used, sizeof(log_text) - used, "[%s %s %s %s -> %d%s%s%s]",
		 t->server_side ? "server" : "client", t->protocol, t->method ? t->method : "-",
		 t->path ? t->path : "-", t->status, t->error[0] ? " error=" : "", t->error,
		 t->resynchronised ? " resync" : "");
}

static struct http_sessions *fresh_with(size_t max_waiting)
{
	struct http_sessions *s;

	log_text[0] = '\0';
	CHECK(http_sessions_new(
		  &(struct http_session_config){.body_limit = 16, .max_waiting = max_waiting},
		  on_txn, NULL, &s) == 0);
	return s;
}

static struct http_sessions *fresh(void)
{
	return fresh_with(0);
}

static uint64_t offsets[2];

/* A segment of a call that began at call_start_ns (0: not known) and returned at time_ns. */
static void seg_call(struct http_sessions *s, uint8_t dir, const char *data, uint64_t call_start_ns,
		     uint64_t time_ns)
{
	struct reasm_segment g = {.tgid = 9,
				  .tid = 9,
				  .session = 77,
				  .direction = dir,
				  .call_start_ns = call_start_ns,
				  .time_ns = time_ns,
				  .data = (const uint8_t *)data,
				  .len = strlen(data),
				  .stream_offset = offsets[dir]};

	memcpy(g.comm, "proc", 5);
	offsets[dir] += g.len;
	CHECK(http_sessions_segment(s, &g) == 0);
}

static void seg(struct http_sessions *s, uint8_t dir, const char *data, uint64_t time_ns)
{
	seg_call(s, dir, data, 0, time_ns);
}

static void test_pipelined_requests_pair_in_order(void)
{
	struct http_sessions *s = fresh();

	offsets[0] = offsets[1] = 0;
	seg(s, CLEARTAP_DIR_WRITE, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nHEAD /b HTTP/1.1\r\n\r\n", 1);
	seg(s, CLEARTAP_DIR_READ,
	    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: "
	    "50\r\n\r\n",
	    2);
	CHECK_STR(log_text, "[client HTTP/1.1 GET /a -> 200][client HTTP/1.1 HEAD /b -> 200]");
	http_sessions_free(s);
}

/* The protocol names the minor version of the response's status line (the request's too). */
static void test_protocol_names_the_minor_version(void)
{
	struct http_sessions *s = fresh();

	offsets[0] = offsets[1] = 0;
	seg(s, CLEARTAP_DIR_WRITE, "GET /old HTTP/1.0\r\n\r\n", 1);
	seg(s, CLEARTAP_DIR_READ, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 2);
	seg(s, CLEARTAP_DIR_WRITE, "GET /new HTTP/1.0\r\n\r\n", 3);
	seg(s, CLEARTAP_DIR_READ, "HTTP/1.1 204 No Content\r\n\r\n", 4);
	CHECK_STR(log_text, "[client HTTP/1.0 GET /old -> 200][client HTTP/1.1 GET /new -> 204]");
	http_sessions_free(s);
}

static void test_server_side_detected_from_reads(void)
{
	struct http_sessions *s = fresh();

	offsets[0] = offsets[1] = 0;
	seg(s, CLEARTAP_DIR_READ, "POST /p HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", 1);
	seg(s, CLEARTAP_DIR_WRITE, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 2);
	CHECK_STR(log_text, "[server HTTP/1.1 POST /p -> 201]");
	http_sessions_free(s);
}

static void test_http2_server_settings_before_preface(void)
{
	static const char settings[] = "\0\0\0\x04\0\0\0\0\0";
	struct http_sessions *s = fresh();
	struct reasm_segment g = {.tgid = 9,
				  .session = 78,
				  .direction = CLEARTAP_DIR_READ,
				  .data = (const uint8_t *)settings,
				  .len = 9};

	/* a client's view: the server's SETTINGS drained before the client's own preface */
	CHECK(http_sessions_segment(s, &g) == 0);
	g.direction = CLEARTAP_DIR_WRITE;
	g.data = (const uint8_t *)"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	g.len = 24;
	CHECK(http_sessions_segment(s, &g) == 0);
	http_sessions_end(s, 9, 78, 3);
	CHECK_STR(log_text, ""); /* decided HTTP/2, nothing to report: no opaque session */
	CHECK_U64(http_sessions_counters(s)->opaque_sessions, 0);
	http_sessions_free(s);
}

static void test_response_without_request(void)
{
	struct http_sessions *s = fresh();

	offsets[0] = offsets[1] = 0;
	/* capture began after the request: the response is reported, unexplained */
	seg(s, CLEARTAP_DIR_READ, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1);
	seg(s, CLEARTAP_DIR_WRITE, "GET /next HTTP/1.1\r\n\r\n", 2);
	seg(s, CLEARTAP_DIR_READ, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 3);
	CHECK_STR(log_text, "[client HTTP/1.1 - - -> 200 error=no request captured for this "
			    "response][client HTTP/1.1 GET /next -> 404]");
	http_sessions_free(s);
}

/* A request drained after its response (another thread's call returned first) is paired with
 * it; a response that came before the request began stays unexplained. */
static void test_request_drained_after_its_response(void)
{
	struct http_sessions *s = fresh();

	offsets[0] = offsets[1] = 0;
	seg_call(s, CLEARTAP_DIR_READ, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 150, 200);
	seg_call(s, CLEARTAP_DIR_WRITE, "GET /late HTTP/1.1\r\nHost: h\r\n\r\n", 100, 300);
	CHECK_STR(log_text, "[client HTTP/1.1 GET /late -> 200]");
	seg_call(s, CLEARTAP_DIR_READ, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 310,
		 400);
	seg_call(s, CLEARTAP_DIR_WRITE, "GET /after HTTP/1.1\r\n\r\n", 500, 510);
	seg_call(s, CLEARTAP_DIR_READ, "HTTP/1.1 204 No Content\r\n\r\n", 520, 600);
	CHECK_STR(log_text, "[client HTTP/1.1 GET /late -> 200][client HTTP/1.1 - - -> 404 "
			    "error=no request captured for this response][client HTTP/1.1 GET "
			    "/after -> 204]");
	http_sessions_free(s);
}

static void test_waiting_requests_over_budget(void)
{
	struct http_sessions *s = fresh_with(2);

	offsets[0] = offsets[1] = 0;
	seg(s, CLEARTAP_DIR_WRITE, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", 1);
	CHECK_STR(log_text, ""); /* two waiting: within the budget */
	seg(s, CLEARTAP_DIR_WRITE, "GET /3 HTTP/1.1\r\n\r\nGET /4 HTTP/1.1\r\n\r\n", 2);
	CHECK_STR(log_text, "[client HTTP/1.1 GET /1 -> 0 error=connection over its budget: more "
			    "requests waiting for responses than --max-waiting-requests; no longer "
			    "parsed][client HTTP/1.1 GET /2 -> 0 error=connection over its budget: "
			    "more requests waiting for responses than --max-waiting-requests; no "
			    "longer parsed]");
	CHECK_U64(http_sessions_counters(s)->over_budget, 1);
	/* no longer parsed: later bytes, responses included, make nothing */
	log_text[0] = '\0';
	seg(s, CLEARTAP_DIR_READ, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 3);
	seg(s, CLEARTAP_DIR_WRITE, "GET /5 HTTP/1.1\r\n\r\n", 4);
	http_sessions_end(s, 9, 77, 5);
	CHECK_STR(log_text, "");
	CHECK_U64(http_sessions_counters(s)->over_budget, 1);
	http_sessions_free(s);
}

static void test_opaque_session(void)
{
	struct http_sessions *s = fresh();

	offsets[0] = offsets[1] = 0;
	seg(s, CLEARTAP_DIR_WRITE, "\x05\x01\x00 some binary protocol", 1);
	seg(s, CLEARTAP_DIR_READ, "+OK redis-like reply\r\n", 2);
	CHECK_U64(http_sessions_counters(s)->opaque_sessions, 1);
	http_sessions_end(s, 9, 77, 3);
	CHECK_STR(log_text, "");
	http_sessions_free(s);
}

/* n pipelined POSTs of a 4000-byte body on session, never answered. */
static void post_flood(struct http_sessions *s, uint64_t session, int n)
{
	static char body[4000];
	char head[96];

	memset(body, 'b', sizeof(body));
	for (int i = 0; i < n; i++) {
		struct reasm_segment g = {.tgid = 9, .tid = 9, .session = session, .time_ns = 1};

		snprintf(head, sizeof(head), "POST /%d HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", i,
			 sizeof(body));
		g.data = (const uint8_t *)head;
		g.len = strlen(head);
		CHECK(http_sessions_segment(s, &g) == 0);
		g.data = (const uint8_t *)body;
		g.len = sizeof(body);
		CHECK(http_sessions_segment(s, &g) == 0);
	}
}

/* How many transactions the log holds, and whether each says why. */
static size_t logged_with(const char *why, size_t *ret_without)
{
	size_t n = 0, without = 0;

	for (const char *p = log_text; (p = strchr(p, '[')); p++) {
		const char *end = strchr(p, ']');

		if (end && memmem(p, (size_t)(end - p), why, strlen(why)))
			n++;
		else
			without++;
	}
	*ret_without = without;
	return n;
}

static void exchange_on(struct http_sessions *s, uint64_t session)
{
	struct reasm_segment g = {.tgid = 9, .tid = 9, .session = session, .time_ns = 2};

	g.data = (const uint8_t *)"GET /other HTTP/1.1\r\n\r\n";
	g.len = strlen((const char *)g.data);
	CHECK(http_sessions_segment(s, &g) == 0);
	g.direction = CLEARTAP_DIR_READ;
	g.data = (const uint8_t *)"HTTP/1.1 204 No Content\r\n\r\n";
	g.len = strlen((const char *)g.data);
	CHECK(http_sessions_segment(s, &g) == 0);
}

static void test_connection_over_its_memory(void)
{
	struct mem_budget_stats before, after;
	struct http_sessions *s;
	size_t flagged, others;

	mem_budget_get(&before);
	log_text[0] = '\0';
	CHECK(http_sessions_new(
		  &(struct http_session_config){.body_limit = 8192, .connection_memory = 64 << 10},
		  on_txn, NULL, &s) == 0);
	post_flood(s, 77, 40); /* 160 KB of waiting bodies against 64 KiB */
	flagged = logged_with("connection over its memory budget (--connection-memory-limit); no "
			      "longer parsed",
			      &others);
	/* each waiting request holds ~4.5 KB: about 14 fit, and every one of them says so */
	CHECK(flagged >= 10 && flagged <= 15);
	CHECK_U64(others, 0);
	CHECK_U64(http_sessions_counters(s)->over_memory, 1);
	CHECK_U64(http_sessions_counters(s)->over_budget, 1);
	/* another connection is parsed as before */
	log_text[0] = '\0';
	exchange_on(s, 78);
	CHECK_STR(log_text, "[client HTTP/1.1 GET /other -> 204]");
	http_sessions_free(s);
	mem_budget_get(&after);
	CHECK_U64(after.used, before.used); /* every charge released */
}

/* Sessions whose memory, from now on, may grow by room bytes at most. */
static struct http_sessions *fresh_within(uint64_t room, struct mem_budget_stats *ret_before)
{
	struct http_sessions *s;

	log_text[0] = '\0';
	CHECK(http_sessions_new(&(struct http_session_config){.body_limit = 8192}, on_txn, NULL,
				&s) == 0);
	mem_budget_get(ret_before);
	mem_budget_set_limit(ret_before->used + room);
	return s;
}

static void test_collector_over_its_memory(void)
{
	struct mem_budget_stats before, after;
	struct http_sessions *s;
	size_t flagged, others;

	s = fresh_within(48 << 10, &before);
	post_flood(s, 77, 40);
	flagged =
	    logged_with("the collector's memory budget (--memory-limit) is exhausted", &others);
	CHECK(flagged >= 6 && flagged <= 11);
	CHECK_U64(others, 0);
	CHECK_U64(http_sessions_counters(s)->over_memory, 1);
	/* what the stopped connection held is free again: the next one fits */
	log_text[0] = '\0';
	exchange_on(s, 78);
	CHECK_STR(log_text, "[client HTTP/1.1 GET /other -> 204]");
	mem_budget_get(&after);
	CHECK(after.refused > before.refused);
	mem_budget_set_limit(UINT64_MAX);
	http_sessions_free(s);
}

/* Near the limit the connection holding the most stops, before a newcomer is refused. */
static void test_largest_connection_is_shed(void)
{
	struct mem_budget_stats before;
	struct http_sessions *s;
	size_t flagged, others;

	s = fresh_within(512 << 10, &before);
	exchange_on(s, 79);	/* a small connection, kept open */
	post_flood(s, 77, 120); /* ~540 KB wanted */
	flagged = logged_with("the collector's memory budget (--memory-limit) is nearly exhausted: "
			      "the connection holding the most is no longer parsed",
			      &others);
	CHECK(flagged >= 70 && flagged <= 100);
	CHECK_U64(others, 1); /* 79's exchange, complete before */
	CHECK_U64(http_sessions_counters(s)->over_memory, 1);
	log_text[0] = '\0';
	exchange_on(s, 79); /* the small one carries on */
	exchange_on(s, 78); /* and a newcomer is parsed */
	CHECK_STR(log_text,
		  "[client HTTP/1.1 GET /other -> 204][client HTTP/1.1 GET /other -> 204]");
	mem_budget_set_limit(UINT64_MAX);
	http_sessions_free(s);
}

int main(void)
{
	RUN(test_pipelined_requests_pair_in_order);
	RUN(test_protocol_names_the_minor_version);
	RUN(test_server_side_detected_from_reads);
	RUN(test_http2_server_settings_before_preface);
	RUN(test_response_without_request);
	RUN(test_request_drained_after_its_response);
	RUN(test_waiting_requests_over_budget);
	RUN(test_opaque_session);
	RUN(test_connection_over_its_memory);
	RUN(test_collector_over_its_memory);
	RUN(test_largest_connection_is_shed);
	return TEST_EXIT();
}
