/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/2 connection parser, table-driven. Header blocks come from libnghttp2's own deflater
 * (Huffman, dynamic table, so HPACK state carries across requests). Every exchange is fed whole,
 * split at every point of each direction, byte by byte and in random chunks: same transactions.
 */
#include <nghttp2/nghttp2.h>
#include <stdarg.h>
#include <stdlib.h>

#include "ct_test.h"
#include "http2_conn.h"

struct bytes {
	uint8_t data[16384];
	size_t len;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void frame(struct bytes *b, uint8_t type, uint8_t flags, uint32_t stream, const void *p,
		  size_t n)
{
	uint8_t h[9] = {(uint8_t)(n >> 16),
			(uint8_t)(n >> 8),
			(uint8_t)n,
			type,
			flags,
			(uint8_t)(stream >> 24),
			(uint8_t)(stream >> 16),
			(uint8_t)(stream >> 8),
			(uint8_t)stream};

	put(b, h, 9);
	put(b, p, n);
}

static void headers(struct bytes *b, nghttp2_hd_deflater *d, uint8_t flags, uint32_t stream,
		    const char *const *nv, size_t n)
{
	nghttp2_nv list[16];
	uint8_t block[2048];
	ssize_t len;

	for (size_t i = 0; i < n; i++)
		list[i] = (nghttp2_nv){(uint8_t *)nv[2 * i], (uint8_t *)nv[2 * i + 1],
				       strlen(nv[2 * i]), strlen(nv[2 * i + 1]), 0};
	len = nghttp2_hd_deflate_hd(d, block, sizeof(block), list, n);
	CHECK(len > 0);
	frame(b, 1, flags | 0x4, stream, block, (size_t)len);
}

/* client and server bytes of one connection */
static struct bytes client, server;

static void build_exchange(void)
{
	static const char *const get[] = {":method",	  "GET",	   ":scheme",
					  "https",	  ":authority",	   "api.example",
					  ":path",	  "/v1/items?x=1", "authorization",
					  "Bearer t0ken", "user-agent",	   "test/1"};
	static const char *const post[] = {
	    ":method",	   "POST",    ":scheme",       "https",	       ":authority",
	    "api.example", ":path",   "/pkg.Svc/Call", "content-type", "application/grpc",
	    "te",	   "trailers"};
	static const char *const ok[] = {":status", "200", "content-type", "text/plain"};
	static const char *const grpc_ok[] = {":status", "200", "content-type", "application/grpc"};
	static const char *const trailers[] = {"grpc-status", "5", "grpc-message", "not found"};
	static const char *const informational[] = {":status", "103", "link", "</a>"};
	nghttp2_hd_deflater *cd, *sd;
	static const uint8_t grpc_request[] = {0, 0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0, 1, 'z'};
	static const uint8_t grpc_response[] = {0, 0, 0, 0, 2, 'o', 'k'};
	uint8_t padded[] = {3, 'p', 'a', 'd', 'd', 'e', 'd', 0, 0, 0};

	nghttp2_hd_deflate_new(&cd, 4096);
	nghttp2_hd_deflate_new(&sd, 4096);
	client.len = server.len = 0;
	put(&client, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	frame(&client, 4, 0, 0, NULL, 0);      /* SETTINGS */
	frame(&server, 4, 0, 0, NULL, 0);      /* SETTINGS */
	headers(&client, cd, 0x1, 1, get, 6);  /* GET, END_STREAM */
	headers(&client, cd, 0x1, 3, get, 6);  /* again: dynamic table hits */
	headers(&client, cd, 0x0, 5, post, 6); /* gRPC */
	frame(&client, 0, 0x1, 5, grpc_request, sizeof(grpc_request));
	headers(&server, sd, 0x0, 1, informational, 2); /* 103 Early Hints */
	headers(&server, sd, 0x0, 1, ok, 2);
	frame(&server, 0, 0x8 | 0x1, 1, padded, sizeof(padded)); /* padded DATA, END_STREAM */
	headers(&server, sd, 0x0, 5, grpc_ok, 2);
	frame(&server, 0, 0x0, 5, grpc_response, sizeof(grpc_response));
	headers(&server, sd, 0x1, 5, trailers, 2);
	frame(&server, 3, 0, 3, "\0\0\0\x08", 4); /* RST_STREAM CANCEL on stream 3 */
	nghttp2_hd_deflate_del(cd);
	nghttp2_hd_deflate_del(sd);
}

static char log_text[8192];

static void log_add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_add(const char *fmt, ...)
{
	size_t used = strlen(log_text);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(log_text + used, sizeof(log_text) - used, fmt, ap);
	va_end(ap);
}

static void on_txn(void *ud, struct http_txn *t)
{
	(void)ud;
	log_add("[%u %s %s %s %s -> %d req=%llu resp=%llu:%.*s", t->stream_id,
		t->method ? t->method : "-", t->authority ? t->authority : "-",
		t->path ? t->path : "-", t->protocol, t->status,
		(unsigned long long)t->request_body.size, (unsigned long long)t->response_body.size,
		(int)t->response_body.kept.len,
		t->response_body.kept.data ? (char *)t->response_body.kept.data : "");
	for (size_t i = 0; i < t->request_headers.n; i++)
		log_add(" >%s=%s", t->request_headers.items[i].name,
			(char *)t->request_headers.items[i].value);
	for (size_t i = 0; i < t->response_headers.n; i++)
		log_add(" <%s=%s", t->response_headers.items[i].name,
			(char *)t->response_headers.items[i].value);
	if (t->grpc.present)
		log_add(" grpc=%s/%s:%d:%s msgs=%u/%u bytes=%llu/%llu", t->grpc.service,
			t->grpc.method, t->grpc.has_status ? t->grpc.status : -1,
			t->grpc.message ? t->grpc.message : "", t->grpc.request_messages,
			t->grpc.response_messages,
			(unsigned long long)t->grpc.request_message_bytes,
			(unsigned long long)t->grpc.response_message_bytes);
	if (t->error[0])
		log_add(" error=%s", t->error);
	log_add("]\n");
	http_txn_free(t);
}

/* Feed client then server bytes, each cut at the given points; the redactor is fixed. */
static void run(size_t client_cut, size_t server_cut, size_t step)
{
	struct redactor r;
	struct h2_conn_config cfg = {.body_limit = 64, .redactor = &r};
	struct h2_conn *h;
	const struct bytes *dirs[2] = {&client, &server};
	size_t cuts[2] = {client_cut, server_cut};

	redactor_init(&r);
	memset(r.key, 7, sizeof(r.key));
	log_text[0] = '\0';
	CHECK(h2_conn_new(&cfg, on_txn, NULL, &h) == 0);
	for (int d = 0; d < 2; d++) {
		const struct bytes *b = dirs[d];
		size_t at = 0;

		if (step) {
			while (at < b->len) {
				size_t n = b->len - at < step ? b->len - at : step;

				h2_conn_feed(h, d == 0, b->data + at, n, 10 + at);
				at += n;
			}
		} else {
			size_t cut = cuts[d] < b->len ? cuts[d] : b->len;

			h2_conn_feed(h, d == 0, b->data, cut, 10);
			h2_conn_feed(h, d == 0, b->data + cut, b->len - cut, 20);
		}
	}
	h2_conn_finish(h);
	h2_conn_free(h);
}

static void test_exchange_at_every_split(void)
{
	char whole[8192];

	build_exchange();
	run(0, 0, 0);
	snprintf(whole, sizeof(whole), "%s", log_text);
	/* 103 skipped, padding excluded, HPACK dynamic table reused by stream 3, gRPC trailers */
	CHECK_STR(
	    whole,
	    "[1 GET api.example /v1/items?x=1 HTTP/2 -> 200 req=0 resp=6:padded"
	    " >authorization=[redacted:3f5b5e3b] >user-agent=test/1 <content-type=text/plain]\n"
	    "[5 POST api.example /pkg.Svc/Call HTTP/2 -> 200 req=14 resp=7: "
	    ">content-type=application/grpc >te=trailers <content-type=application/grpc "
	    "<grpc-status=5 <grpc-message=not found grpc=pkg.Svc/Call:5:not found msgs=2/1 "
	    "bytes=4/2]\n"
	    "[3 GET api.example /v1/items?x=1 HTTP/2 -> 0 req=0 resp=0: "
	    ">authorization=[redacted:3f5b5e3b] >user-agent=test/1 error=reset by server: "
	    "CANCEL (8)]\n");
	for (size_t c = 1; c < client.len; c++) {
		run(c, 0, 0);
		if (strcmp(log_text, whole)) {
			fprintf(stderr, "client split at %zu:\n%s", c, log_text);
			ct_test_failures++;
			break;
		}
	}
	for (size_t s = 1; s < server.len; s++) {
		run(client.len, s, 0);
		if (strcmp(log_text, whole)) {
			fprintf(stderr, "server split at %zu:\n%s", s, log_text);
			ct_test_failures++;
			break;
		}
	}
	run(0, 0, 1);
	CHECK_STR(log_text, whole);
	for (int i = 0; i < 20; i++) {
		run(0, 0, 1 + (size_t)rand() % 13);
		CHECK_STR(log_text, whole);
	}
}

static void test_gap_outside_data_desynchronises(void)
{
	struct h2_conn_config cfg = {.body_limit = 64};
	struct h2_conn *h;

	build_exchange();
	log_text[0] = '\0';
	h2_conn_new(&cfg, on_txn, NULL, &h);
	h2_conn_feed(h, true, client.data, 24 + 9 + 20, 1); /* into the first HEADERS */
	h2_conn_gap(h, true, 5);
	CHECK(h2_conn_desynchronised(h));
	h2_conn_feed(h, false, server.data, server.len, 2); /* ignored now: no guessed headers */
	h2_conn_finish(h);
	h2_conn_free(h);
	CHECK_STR(
	    log_text,
	    "[0 - - - HTTP/2 -> 0 req=0 resp=0: error=desynchronised: 5 bytes from the client "
	    "not captured]\n");
}

static void test_headers_flood_goes_over_budget(void)
{
	static const char *const get[] = {":method", "GET", ":scheme", "https", ":path", "/f"};
	struct h2_conn_config cfg = {.body_limit = 64, .max_streams = 3};
	static struct bytes flood;
	nghttp2_hd_deflater *d;
	struct h2_conn *h;

	flood.len = 0;
	CHECK(nghttp2_hd_deflate_new(&d, 4096) == 0);
	put(&flood, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	frame(&flood, 4, 0, 0, NULL, 0); /* SETTINGS */
	for (uint32_t id = 1; id <= 9; id += 2)
		headers(&flood, d, 0x1, id, get, 3); /* requests no one answers */
	nghttp2_hd_deflate_del(d);
	log_text[0] = '\0';
	CHECK(h2_conn_new(&cfg, on_txn, NULL, &h) == 0);
	h2_conn_feed(h, true, flood.data, flood.len, 1);
	/* the fourth stream is one too many: the three open ones come out saying why, and the
	 * connection is no longer parsed (the fifth makes nothing) */
	CHECK(h2_conn_over_budget(h) && h2_conn_desynchronised(h));
	CHECK_STR(log_text, "[5 GET - /f HTTP/2 -> 0 req=0 resp=0: error=desynchronised: over its "
			    "budget of open streams (--max-waiting-requests)]\n"
			    "[3 GET - /f HTTP/2 -> 0 req=0 resp=0: error=desynchronised: over its "
			    "budget of open streams (--max-waiting-requests)]\n"
			    "[1 GET - /f HTTP/2 -> 0 req=0 resp=0: error=desynchronised: over its "
			    "budget of open streams (--max-waiting-requests)]\n");
	h2_conn_finish(h);
	h2_conn_free(h);
}

int main(void)
{
	srand(3);
	RUN(test_exchange_at_every_split);
	RUN(test_gap_outside_data_desynchronises);
	RUN(test_headers_flood_goes_over_budget);
	return TEST_EXIT();
}
