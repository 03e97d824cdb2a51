/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pipeline from kernel records to exported JSON: a plain TCP stream's tail loss is told
 * whatever the order in which its data and its connection's close come out of the rings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_test.h"
#include "pipeline.h"

#define COOKIE 5
#define TGID   42

static struct cleartap_conn conn_record(uint8_t event, uint64_t time_ns, uint64_t read_length)
{
	struct cleartap_conn r = {.hdr = {.type = CLEARTAP_REC_CONN,
					  .version = CLEARTAP_SCHEMA_VERSION,
					  .size = sizeof(r),
					  .timestamp_ns = time_ns},
				  .cookie = COOKIE,
				  .family = 2,
				  .local_port = 8080,
				  .remote_port = 40000,
				  .role = CLEARTAP_ROLE_SERVER,
				  .event = event};

	memcpy(r.local_addr, "\x7f\x00\x00\x01", 4);
	memcpy(r.remote_addr, "\x7f\x00\x00\x01", 4);
	r.stream_length[CLEARTAP_DIR_READ] = read_length;
	return r;
}

/* One plain read of len bytes ('x') at offset, in a single chunk. */
static void add_read(struct pipeline *p, uint64_t time_ns, uint64_t offset, uint32_t len)
{
	size_t size = sizeof(struct cleartap_tls_data) + len;
	struct cleartap_tls_data *rec = calloc(1, size);

	rec->hdr = (struct cleartap_record_header){.type = CLEARTAP_REC_TLS_DATA,
						   .version = CLEARTAP_SCHEMA_VERSION,
						   .size = size,
						   .timestamp_ns = time_ns,
						   .tgid = TGID,
						   .tid = TGID};
	rec->stream_offset = offset;
	rec->call_start_ns = time_ns - 1;
	rec->call_len = rec->captured_len = rec->chunk_len = len;
	rec->fd = 4;
	rec->direction = CLEARTAP_DIR_READ;
	rec->func = CLEARTAP_FN_SYS_READ;
	rec->flags = CLEARTAP_DATA_FD_FROM_SYSCALL | CLEARTAP_DATA_PLAIN;
	memcpy(rec->comm, "server", 7);
	rec->session_id = rec->conn_cookie = COOKIE;
	memset(rec->payload, 'x', len);
	pipeline_add(p, rec, size);
	free(rec);
}

static void add_conn(struct pipeline *p, uint8_t event, uint64_t time_ns, uint64_t read_length)
{
	struct cleartap_conn r = conn_record(event, time_ns, read_length);

	pipeline_add(p, &r, sizeof(r));
}

/* Bytes exported and told lost on the read stream, from the JSON lines. */
static void read_stream_accounting(const char *json, uint64_t *ret_exported, uint64_t *ret_lost)
{
	*ret_exported = *ret_lost = 0;
	for (const char *line = json; *line; line = strchr(line, '\n') + 1) {
		const char *end = strchr(line, '\n'), *at;
		char number[32] = {};

		if (!end)
			break;
		if (strncmp(line, "{\"tlsData\"", 10) ||
		    !(at = strstr(line, "\"DIRECTION_READ\"")) || at > end)
			continue;
		if ((at = strstr(line, "\"data\":\"")) && at < end) {
			size_t n = strcspn(at + 8, "\"");

			*ret_exported +=
			    n / 4 * 3 - (at[8 + n - 1] == '=') - (at[8 + n - 2] == '=');
		}
		if ((at = strstr(line, "\"gapBeforeBytes\":\"")) && at < end) {
			memcpy(number, at + 18, strcspn(at + 18, "\"") % sizeof(number));
			*ret_lost += strtoull(number, NULL, 10);
		}
	}
}

struct run {
	struct pipeline p;
	struct exporter *exporter;
	struct filter filter;
	struct redactor redactor;
	FILE *out;
	char *json;
	size_t json_len;
};

static void run_start(struct run *r)
{
	memset(r, 0, sizeof(*r));
	redactor_init(&r->redactor);
	r->out = open_memstream(&r->json, &r->json_len);
	CHECK(exporter_new(r->out, EXPORT_JSON, NULL, &r->exporter) == 0);
	CHECK(pipeline_init(&r->p,
			    &(struct pipeline_config){.filter = &r->filter,
						      .redactor = &r->redactor,
						      .raw = true,
						      .body_limit = 1024,
						      .max_call_bytes = 1 << 20,
						      .max_pending_bytes = 1 << 24,
						      .hold_ns = 1000},
			    r->exporter, NULL) == 0);
}

static void run_finish(struct run *r, uint64_t *ret_exported, uint64_t *ret_lost)
{
	pipeline_finish(&r->p);
	pipeline_free(&r->p);
	exporter_free(r->exporter);
	fclose(r->out);
	read_stream_accounting(r->json, ret_exported, ret_lost);
	free(r->json);
}

/* The close comes while the stream's data waits behind a hole; the collector then stops. */
static void test_close_while_data_waits_behind_a_hole(void)
{
	struct run r;
	uint64_t exported, lost;

	run_start(&r);
	add_conn(&r.p, CLEARTAP_CONN_OPEN, 100, 0);
	add_read(&r.p, 200, 3000, 3000); /* 0..3000 lost in the ring */
	add_conn(&r.p, CLEARTAP_CONN_CLOSE, 300, 9000);
	pipeline_run_pass(&r.p);
	run_finish(&r, &exported, &lost);
	CHECK_U64(exported, 3000);
	CHECK_U64(lost, 6000);
}

/* The close is drained from one ring before the stream's data from another. */
static void test_close_before_its_data(void)
{
	struct run r;
	uint64_t exported, lost;

	run_start(&r);
	add_conn(&r.p, CLEARTAP_CONN_OPEN, 100, 0);
	add_conn(&r.p, CLEARTAP_CONN_CLOSE, 300, 7000);
	pipeline_run_pass(&r.p);
	pipeline_tick(&r.p, 400);
	add_read(&r.p, 200, 0, 3000);
	add_read(&r.p, 250, 3000, 1000);
	pipeline_run_pass(&r.p);
	pipeline_tick(&r.p, 5000);
	run_finish(&r, &exported, &lost);
	CHECK_U64(exported, 4000);
	CHECK_U64(lost, 3000);
}

int main(void)
{
	RUN(test_close_while_data_waits_behind_a_hole);
	RUN(test_close_before_its_data);
	return TEST_EXIT();
}
