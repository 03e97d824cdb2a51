/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Collector throughput on one core, from recorded streams: kernel records -> reassembly ->
 * HTTP/1 or HTTP/2 parsing -> transactions, with and without JSON export (to /dev/null); and
 * resident memory with 10 000 connections each holding a request that awaits its response.
 * Usage: parse_bench [TRANSACTIONS]
 */
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleartap/events.h"
#include "export.h"
#include "http_session.h"
#include "reassembly.h"

struct pipeline {
	struct reasm *reasm;
	struct http_sessions *http;
	struct exporter *exporter; /* NULL: parse only */
	uint64_t transactions;
};

static void on_segment(void *ud, const struct reasm_segment *s)
{
	http_sessions_segment(((struct pipeline *)ud)->http, s);
}

static void on_end(void *ud, const struct reasm_session_end *e)
{
	struct pipeline *p = ud;

	http_sessions_end(p->http, e->tgid, e->session, e->time_ns);
}

static void on_txn(void *ud, const struct http_txn *t)
{
	struct pipeline *p = ud;

	p->transactions++;
	if (p->exporter)
		exporter_transaction(p->exporter, t);
}

static void pipeline_init(struct pipeline *p, bool export, struct redactor *r)
{
	static FILE *null_out;
	struct reasm_config rc = {.max_call_bytes = 1 << 20, .max_pending_bytes = 1ULL << 30};
	struct reasm_ops ops = {.segment = on_segment, .session_end = on_end};

	memset(p, 0, sizeof(*p));
	if (export) {
		if (!null_out)
			null_out = fopen("/dev/null", "w");
		exporter_new(null_out, EXPORT_JSON, NULL, &p->exporter);
	}
	http_sessions_new(&(struct http_session_config){.body_limit = 4096, .redactor = r}, on_txn,
			  p, &p->http);
	reasm_new(&rc, &ops, p, &p->reasm);
}

static void pipeline_free(struct pipeline *p)
{
	reasm_free(p->reasm);
	http_sessions_free(p->http);
	exporter_free(p->exporter);
}

/* Feed one library call as the kernel would record it (one chunk: calls here are small). */
static void call(struct pipeline *p, uint32_t tgid, uint64_t session, uint8_t dir, uint64_t *offset,
		 const void *data, size_t len, uint64_t ts)
{
	static uint8_t storage[sizeof(struct cleartap_tls_data) + CLEARTAP_CHUNK_MAX];
	struct cleartap_tls_data *rec = (void *)storage;

	memset(rec, 0, sizeof(*rec));
	rec->hdr = (struct cleartap_record_header){.type = CLEARTAP_REC_TLS_DATA,
						   .version = CLEARTAP_SCHEMA_VERSION,
						   .size = (uint32_t)(sizeof(*rec) + len),
						   .timestamp_ns = ts,
						   .tgid = tgid,
						   .tid = tgid};
	rec->session_id = session;
	rec->stream_offset = *offset;
	rec->call_len = rec->captured_len = rec->chunk_len = (uint32_t)len;
	rec->direction = dir;
	rec->func = dir == CLEARTAP_DIR_WRITE ? CLEARTAP_FN_SSL_WRITE : CLEARTAP_FN_SSL_READ;
	memcpy(rec->comm, "bench", 6);
	memcpy(rec->payload, data, len);
	*offset += len;
	reasm_add_chunk(p->reasm, rec);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char request1[] = "GET /api/v1/items/42?fields=name,price HTTP/1.1\r\n"
			       "Host: api.example.com\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n"
			       "Authorization: Bearer abcdef0123456789\r\n\r\n";
static const char response1[] = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
				"Content-Type: application/json\r\nContent-Length: 48\r\n"
				"Connection: keep-alive\r\n\r\n"
				"{\"id\":42,\"name\":\"widget\",\"price\":\"9.99 EUR\"}\n\n\n\n";

static double bench_http1(uint64_t n, bool export, struct redactor *r)
{
	struct pipeline p;
	uint64_t off[2] = {0, 0}, ts = 1;
	double t0;

	pipeline_init(&p, export, r);
	t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		/* 100 transactions per keep-alive connection */
		uint64_t session = i / 100;

		if (i % 100 == 0)
			off[0] = off[1] = 0;
		call(&p, 1000, session, CLEARTAP_DIR_WRITE, &off[0], request1, sizeof(request1) - 1,
		     ts++);
		call(&p, 1000, session, CLEARTAP_DIR_READ, &off[1], response1,
		     sizeof(response1) - 1, ts++);
	}
	t0 = now_s() - t0;
	if (p.transactions != n)
		fprintf(stderr, "parse_bench: %llu of %llu HTTP/1 transactions\n",
			(unsigned long long)p.transactions, (unsigned long long)n);
	pipeline_free(&p);
	return n / t0;
}

struct h2_streams {
	uint8_t client[4096], server[4096];
	size_t client_len, server_len;
};

static void frame(uint8_t *b, size_t *len, uint8_t type, uint8_t flags, uint32_t stream,
		  const void *payload, size_t n)
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

	memcpy(b + *len, h, 9);
	memcpy(b + *len + 9, payload, n);
	*len += 9 + n;
}

static double bench_http2(uint64_t n, struct redactor *r)
{
	static const char *req[] = {
	    ":method",	       "GET",	":scheme",	    "https",	  ":authority",
	    "api.example.com", ":path", "/api/v1/items/42", "user-agent", "nghttp2/1.52.0",
	    "accept",	       "*/*"};
	static const char *resp[] = {":status",		 "200",	   "content-type",
				     "application/json", "server", "nginx/1.22.1"};
	nghttp2_hd_deflater *cd, *sd;
	struct pipeline p;
	uint64_t off[2] = {0, 0}, ts = 1;
	uint8_t block[1024], buf[1024];
	size_t len;
	double t0;
	nghttp2_nv nv[6];

	nghttp2_hd_deflate_new(&cd, 4096);
	nghttp2_hd_deflate_new(&sd, 4096);
	pipeline_init(&p, false, r);
	t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		uint32_t stream = (uint32_t)(i % 1000) * 2 + 1;
		uint64_t session = i / 1000; /* 1000 streams per connection */
		ssize_t b;

		if (i % 1000 == 0) {
			nghttp2_hd_deflate_del(cd);
			nghttp2_hd_deflate_del(sd);
			nghttp2_hd_deflate_new(&cd, 4096);
			nghttp2_hd_deflate_new(&sd, 4096);
			off[0] = off[1] = 0;
			call(&p, 2000, session, CLEARTAP_DIR_WRITE, &off[0],
			     "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0", 33, ts++);
		}
		for (int k = 0; k < 6; k++)
			nv[k] = (nghttp2_nv){(uint8_t *)req[2 * k], (uint8_t *)req[2 * k + 1],
					     strlen(req[2 * k]), strlen(req[2 * k + 1]), 0};
		b = nghttp2_hd_deflate_hd(cd, block, sizeof(block), nv, 6);
		len = 0;
		frame(buf, &len, 1, 0x5, stream, block, (size_t)b);
		call(&p, 2000, session, CLEARTAP_DIR_WRITE, &off[0], buf, len, ts++);
		for (int k = 0; k < 3; k++)
			nv[k] = (nghttp2_nv){(uint8_t *)resp[2 * k], (uint8_t *)resp[2 * k + 1],
					     strlen(resp[2 * k]), strlen(resp[2 * k + 1]), 0};
		b = nghttp2_hd_deflate_hd(sd, block, sizeof(block), nv, 3);
		len = 0;
		frame(buf, &len, 1, 0x4, stream, block, (size_t)b);
		frame(buf, &len, 0, 0x1, stream, "{\"id\":42,\"name\":\"widget\"}", 25);
		call(&p, 2000, session, CLEARTAP_DIR_READ, &off[1], buf, len, ts++);
	}
	t0 = now_s() - t0;
	if (p.transactions != n)
		fprintf(stderr, "parse_bench: %llu of %llu HTTP/2 transactions\n",
			(unsigned long long)p.transactions, (unsigned long long)n);
	pipeline_free(&p);
	nghttp2_hd_deflate_del(cd);
	nghttp2_hd_deflate_del(sd);
	return n / t0;
}

static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * 4;
}

static void bench_memory(struct redactor *r)
{
	const int conns = 10000;
	struct pipeline p;
	long before, after;

	pipeline_init(&p, false, r);
	before = rss_kib();
	for (int i = 0; i < conns; i++) {
		uint64_t off = 0;

		/* a request on each connection, its response not yet seen */
		call(&p, 3000, (uint64_t)i, CLEARTAP_DIR_WRITE, &off, request1,
		     sizeof(request1) - 1, (uint64_t)i + 1);
	}
	after = rss_kib();
	printf("memory: %d open connections with a pending request: %ld KiB resident, %.1f KiB "
	       "per connection\n",
	       conns, after - before, (double)(after - before) / conns);
	pipeline_free(&p);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 500000;
	struct redactor r;

	redactor_init(&r);
	printf("collector, one core, %llu transactions each (kernel records -> reassembly -> "
	       "parse)\n",
	       (unsigned long long)n);
	printf("HTTP/1.1 request+response, parse only:  %10.0f transactions/s\n",
	       bench_http1(n, false, &r));
	printf("HTTP/1.1 request+response, JSON export: %10.0f transactions/s\n",
	       bench_http1(n, true, &r));
	printf("HTTP/2 stream (HPACK), parse only:      %10.0f transactions/s\n",
	       bench_http2(n, &r));
	bench_memory(&r);
	return 0;
}
