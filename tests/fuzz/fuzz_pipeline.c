/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the whole collector path after the ring buffers. The input is read as a series of
 * raw kernel records (sizes, offsets and types as an attacker or a bug might make them), then
 * validated, time-ordered, reassembled, parsed as HTTP/1 or HTTP/2 and exported as JSON and
 * protobuf, exactly as the collector does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleartap/events.h"
#include "conn_table.h"
#include "proc_table.h"
#include "export.h"
#include "http_session.h"
#include "reassembly.h"
#include "record_batch.h"
#include "record_decode.h"

struct pipeline {
	struct reasm *reasm;
	struct http_sessions *http;
	struct exporter *exporter;
	struct conn_table *conns;
	struct proc_table *procs;
};

static void on_segment(void *ud, const struct reasm_segment *s)
{
	struct pipeline *p = ud;

	exporter_segment(p->exporter, s);
	http_sessions_segment(p->http, s);
}

static void on_end(void *ud, const struct reasm_session_end *e)
{
	struct pipeline *p = ud;

	http_sessions_end(p->http, e->tgid, e->session, e->time_ns);
	exporter_session_end(p->exporter, e);
}

static void on_txn(void *ud, const struct http_txn *t)
{
	exporter_transaction(ud, t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null_out;
	struct redactor redactor;
	struct reasm_config rc = {
	    .max_call_bytes = 1 << 20, .max_pending_bytes = 1 << 22, .hold_ns = 1000};
	struct reasm_ops ops = {.segment = on_segment, .session_end = on_end};
	struct record_batch batch = {};
	struct pipeline p = {};
	size_t at = 0;
	uint64_t now = 0;

	if (!null_out)
		null_out = fopen("/dev/null", "w");
	redactor_init(&redactor);
	if (exporter_new(null_out, EXPORT_JSON, "/dev/null", &p.exporter) < 0)
		return 0;
	conn_table_new(&p.conns);
	exporter_set_connections(p.exporter, p.conns);
	proc_table_new(&p.procs);
	exporter_set_processes(p.exporter, p.procs);
	http_sessions_new(&(struct http_session_config){.body_limit = 512, .redactor = &redactor},
			  on_txn, p.exporter, &p.http);
	reasm_new(&rc, &ops, &p, &p.reasm);
	/* records: u16 length, then that many bytes; every 4th record ends a drain pass */
	for (unsigned n = 0; at + 2 <= size; n++) {
		size_t len = (size_t)data[at] | (size_t)data[at + 1] << 8;

		at += 2;
		if (len > size - at)
			len = size - at;
		record_batch_add(&batch, data + at, len);
		at += len;
		if (n % 4 == 3 || at + 2 > size) {
			record_batch_sort(&batch);
			for (size_t i = 0; i < batch.n; i++) {
				size_t rsize;
				const void *r = record_batch_get(&batch, i, &rsize);

				switch (record_validate(r, rsize)) {
				case CLEARTAP_REC_TLS_DATA:
					reasm_add_chunk(p.reasm, r);
					break;
				case CLEARTAP_REC_TLS_FREE:
					reasm_end_session(p.reasm, r);
					break;
				case CLEARTAP_REC_PROC: {
					const struct proc_info *info;

					if (proc_table_apply(p.procs, r, &info) == 0)
						exporter_process(p.exporter, info);
					break;
				}
				case CLEARTAP_REC_CONN: {
					const struct conn_info *info;
					if (conn_table_apply(p.conns, r, &info) == 0)
						exporter_connection(p.exporter, info, false);
					break;
				}
				case CLEARTAP_REC_TLS_HELLO: {
					const struct conn_info *info;

					if (conn_table_hello(p.conns, r, &info) >= 0)
						exporter_connection(p.exporter, info, true);
					break;
				}
				default:
					break;
				}
			}
			record_batch_reset(&batch);
			reasm_tick(p.reasm, now += 600);
		}
	}
	reasm_flush_all(p.reasm);
	http_sessions_flush(p.http);
	reasm_free(p.reasm);
	http_sessions_free(p.http);
	exporter_free(p.exporter);
	conn_table_free(p.conns);
	proc_table_free(p.procs);
	record_batch_free(&batch);
	return 0;
}
