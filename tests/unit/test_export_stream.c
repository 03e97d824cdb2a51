/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cleartap-export's input and output without a network: the record stream read back in every
 * chunking, oversized records skipped by their framing, and the OTLP request checked by
 * unpacking it with the generated ExportLogsServiceRequest (field by field).
 */
#include <errno.h>
#include <stdlib.h>

#include "cleartap.pb-c.h"
#include "ct_test.h"
#include "otlp_logs.h"
#include "otlp_logs.pb-c.h"
#include "record_stream.h"

struct seen {
	size_t n;
	size_t len[16];
	uint8_t first[16];
};

static void on_record(void *ctx, const uint8_t *record, size_t len)
{
	struct seen *s = ctx;

	if (s->n < 16) {
		s->len[s->n] = len;
		s->first[s->n] = len ? record[0] : 0;
	}
	s->n++;
}

static size_t put_record(uint8_t *out, size_t len, uint8_t fill)
{
	size_t n = 0;

	for (uint64_t v = len;; v >>= 7) {
		out[n++] = (uint8_t)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
		if (!(v >> 7))
			break;
	}
	memset(out + n, fill, len);
	return n + len;
}

/* Records of 0, 5, 300 (two-byte length), 2000 (over the limit) and 7 bytes, cut into every
 * chunk size from 1 byte up: the same four records come out, the big one is counted. */
static void test_every_chunking(void)
{
	static uint8_t stream[4096];
	size_t len = 0;

	len += put_record(stream + len, 0, 0);
	len += put_record(stream + len, 5, 'a');
	len += put_record(stream + len, 300, 'b');
	len += put_record(stream + len, 2000, 'x');
	len += put_record(stream + len, 7, 'c');
	for (size_t chunk = 1; chunk <= len; chunk += chunk < 16 ? 1 : 97) {
		struct record_stream rs = {.max_record = 1024};
		struct seen s = {0};
		uint64_t oversized = 0;

		for (size_t pos = 0; pos < len; pos += chunk)
			CHECK(record_stream_feed(&rs, stream + pos,
						 pos + chunk < len ? chunk : len - pos, on_record,
						 &s, &oversized) == 0);
		CHECK_U64(s.n, 4);
		CHECK_U64(oversized, 1);
		CHECK_U64(s.len[0], 0);
		CHECK_U64(s.len[1], 5);
		CHECK_U64(s.first[1], 'a');
		CHECK_U64(s.len[2], 300);
		CHECK_U64(s.first[2], 'b');
		CHECK_U64(s.len[3], 7);
		CHECK_U64(s.first[3], 'c');
		CHECK_U64(rs.pending.len, 0);
		record_stream_free(&rs);
	}
}

static void test_no_varint_ends_the_stream(void)
{
	static const uint8_t bad[11] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					0xff, 0xff, 0xff, 0xff, 1};
	struct record_stream rs = {.max_record = 1024};
	struct seen s = {0};
	uint64_t oversized = 0;

	CHECK(record_stream_feed(&rs, bad, 5, on_record, &s, &oversized) == 0); /* not yet known */
	CHECK(record_stream_feed(&rs, bad + 5, 6, on_record, &s, &oversized) == -EBADMSG);
	CHECK_U64(s.n, 0);
	record_stream_free(&rs);
}

static const Cleartap__Otlp__V1__AnyValue *attribute(const Cleartap__Otlp__V1__LogRecord *log,
						     const char *key)
{
	for (size_t i = 0; i < log->n_attributes; i++)
		if (!strcmp(log->attributes[i]->key, key))
			return log->attributes[i]->value;
	return NULL;
}

static void test_request_envelope(void)
{
	Cleartap__V1__Record rec = CLEARTAP__V1__RECORD__INIT;
	Cleartap__V1__HttpTransaction h = CLEARTAP__V1__HTTP_TRANSACTION__INIT;
	Cleartap__V1__Header ua = CLEARTAP__V1__HEADER__INIT, a1 = CLEARTAP__V1__HEADER__INIT,
			     a2 = CLEARTAP__V1__HEADER__INIT;
	Cleartap__V1__Header *headers[] = {&ua, &a1, &a2};
	Cleartap__V1__Record other = CLEARTAP__V1__RECORD__INIT;
	Cleartap__V1__TlsData data = CLEARTAP__V1__TLS_DATA__INIT;
	struct ct_buf queue = {0}, resource = {0}, request = {0};
	const char *extra[] = {"deployment.environment=prod", "host.name=node-7"};
	Cleartap__Otlp__V1__ExportLogsServiceRequest *req;
	const Cleartap__Otlp__V1__AnyValue *v;
	Cleartap__Otlp__V1__LogRecord *log;

	ua.name = "User-Agent";
	ua.value = "curl/7.88.1";
	a1.name = "X-Tag";
	a1.value = "one";
	a2.name = "x-tag";
	a2.value_bytes = (ProtobufCBinaryData){2, (uint8_t *)"\0\1"};
	h.method = "PURGE";
	h.path = "/cache/item?id=7";
	h.authority = "[::1]:8443";
	h.scheme = "https";
	h.protocol = "HTTP/2";
	h.status = 503;
	h.request_start_unix_nano = 1000;
	h.response_end_unix_nano = 4000;
	h.n_request_headers = 3;
	h.request_headers = headers;
	rec.kind_case = CLEARTAP__V1__RECORD__KIND_HTTP;
	rec.http = &h;
	other.kind_case = CLEARTAP__V1__RECORD__KIND_TLS_DATA;
	other.tls_data = &data;

	CHECK(otlp_log_from_record(&rec, 5000, &queue) == 0);
	CHECK(otlp_log_from_record(&other, 5000, &queue) == -ENOENT);
	CHECK(otlp_log_from_record(&rec, 6000, &queue) == 0);
	CHECK_U64(otlp_framed_record_size(queue.data) * 2, queue.len);
	CHECK(otlp_resource_pack("this-host", extra, 2, &resource) == 0);
	otlp_request_write(&request, &resource, queue.data, queue.len);

	req = cleartap__otlp__v1__export_logs_service_request__unpack(NULL, request.len,
								      request.data);
	CHECK(req && req->n_resource_logs == 1);
	if (!req || req->n_resource_logs != 1)
		return;
	CHECK_U64(req->resource_logs[0]->resource->n_attributes, 3);
	CHECK_STR(req->resource_logs[0]->resource->attributes[1]->value->string_value, "node-7");
	CHECK_STR(req->resource_logs[0]->resource->attributes[2]->key, "service.name");
	CHECK_U64(req->resource_logs[0]->n_scope_logs, 1);
	CHECK_STR(req->resource_logs[0]->scope_logs[0]->scope->name, "cleartap");
	CHECK_U64(req->resource_logs[0]->scope_logs[0]->n_log_records, 2);
	log = req->resource_logs[0]->scope_logs[0]->log_records[1];
	CHECK_U64(log->time_unix_nano, 1000);
	CHECK_U64(log->observed_time_unix_nano, 6000);
	CHECK_U64(log->severity_number, CLEARTAP__OTLP__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_ERROR);
	CHECK_STR(log->event_name, "cleartap.http.transaction");
	CHECK_STR(log->body->string_value, "PURGE /cache/item?id=7 503");
	CHECK_STR(attribute(log, "http.request.method")->string_value, "_OTHER");
	CHECK_STR(attribute(log, "http.request.method_original")->string_value, "PURGE");
	CHECK_STR(attribute(log, "url.path")->string_value, "/cache/item");
	CHECK_STR(attribute(log, "url.query")->string_value, "id=7");
	CHECK_STR(attribute(log, "url.full")->string_value, "https://[::1]:8443/cache/item?id=7");
	CHECK_STR(attribute(log, "server.address")->string_value, "::1");
	CHECK_U64(attribute(log, "server.port")->int_value, 8443);
	CHECK_STR(attribute(log, "network.protocol.version")->string_value, "2");
	CHECK_STR(attribute(log, "error.type")->string_value, "503");
	CHECK_U64(attribute(log, "cleartap.http.duration_ns")->int_value, 3000);
	v = attribute(log, "http.request.header.x-tag");
	CHECK(v && v->array_value && v->array_value->n_values == 2);
	if (v && v->array_value && v->array_value->n_values == 2) {
		CHECK_STR(v->array_value->values[0]->string_value, "one");
		CHECK_U64(v->array_value->values[1]->bytes_value.len, 2);
	}
	CHECK_STR(attribute(log, "user_agent.original")->string_value, "curl/7.88.1");
	CHECK(attribute(log, "client.address") == NULL); /* a client's view */
	cleartap__otlp__v1__export_logs_service_request__free_unpacked(req, NULL);
	ct_buf_free(&queue);
	ct_buf_free(&resource);
	ct_buf_free(&request);
}

/* 300 request and 300 response headers: what fits goes out, the rest is counted, no overrun. */
static void test_many_headers_are_bounded(void)
{
	static Cleartap__V1__Header h[600], *ptr[600];
	Cleartap__V1__Record rec = CLEARTAP__V1__RECORD__INIT;
	Cleartap__V1__HttpTransaction t = CLEARTAP__V1__HTTP_TRANSACTION__INIT;
	Cleartap__Otlp__V1__LogRecord *log;
	struct ct_buf out = {0};
	uint64_t items = 0;
	size_t head = 1;

	for (size_t i = 0; i < 600; i++) {
		cleartap__v1__header__init(&h[i]);
		h[i].name = i % 2 ? "x-odd" : "x-even";
		h[i].value = "v";
		ptr[i] = &h[i];
	}
	t.method = "GET";
	t.path = "/";
	t.request_headers = ptr;
	t.n_request_headers = 300;
	t.response_headers = ptr + 300;
	t.n_response_headers = 300;
	rec.kind_case = CLEARTAP__V1__RECORD__KIND_HTTP;
	rec.http = &t;
	CHECK(otlp_log_from_record(&rec, 1, &out) == 0);
	while (out.data[head++] & 0x80) /* past the tag and the length varint */
		;
	log = cleartap__otlp__v1__log_record__unpack(NULL, out.len - head, out.data + head);
	CHECK(log != NULL);
	if (!log)
		return;
	for (size_t i = 0; i < log->n_attributes; i++)
		if (log->attributes[i]->value->value_case ==
		    CLEARTAP__OTLP__V1__ANY_VALUE__VALUE_ARRAY_VALUE)
			items += log->attributes[i]->value->array_value->n_values;
	CHECK_U64(items, 256);
	CHECK_U64(items + log->dropped_attributes_count, 600); /* kept, or counted as dropped */
	cleartap__otlp__v1__log_record__free_unpacked(log, NULL);
	ct_buf_free(&out);
}

int main(void)
{
	RUN(test_every_chunking);
	RUN(test_no_varint_ends_the_stream);
	RUN(test_request_envelope);
	RUN(test_many_headers_are_bounded);
	return TEST_EXIT();
}
