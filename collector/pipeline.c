/* SPDX-License-Identifier: Apache-2.0 */
#include "pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleartap/events.h"
#include "ct_macro.h"
#include "record_decode.h"

static bool process_wanted(const struct pipeline *p, uint32_t pid, const char *comm)
{
	const struct proc_info *info = proc_table_get(p->procs, pid);

	if (!comm && info)
		comm = info->comm; /* connection records know the pid only */
	return filter_process(p->config.filter, pid, comm, info ? info->exe : NULL);
}

void pipeline_attachment(struct pipeline *p, const struct cleartap_handoff_attachment *report,
			 uint32_t pid, bool is_library)
{
	/*
	 * Most executables have no TLS in them: only what holds TLS is said. One refused before
	 * it was examined (rate limit, or its process exec'd again already) is asked for again at
	 * its next exec; what its process sent meanwhile its connections report (plaintextMissed).
	 */
	if (!is_library && report->library == CLEARTAP_LIB_UNKNOWN &&
	    (report->status == CLEARTAP_ATTACH_SKIPPED ||
	     report->status == CLEARTAP_ATTACH_REFUSED))
		return;
	if (report->library < CT_ARRAY_SIZE(p->files) &&
	    report->status < CT_ARRAY_SIZE(p->files[0]))
		p->files[report->library][report->status]++;
	if (report->status == CLEARTAP_ATTACH_ATTACHED ||
	    report->status == CLEARTAP_ATTACH_ALREADY_ATTACHED) {
		p->counters.probed_files++;
		tls_coverage_probed(p->coverage, pid, ct_monotonic_ns());
	} else
		p->counters.unprobed_files++;
	exporter_attachment(p->exporter, report, pid, proc_table_get(p->procs, pid));
}

/* A file that appeared after the loader ran: the loader is asked to probe it. */
static void examine_file(struct pipeline *p, uint32_t pid, const char *path, size_t size,
			 uint32_t mnt_ns, bool is_library)
{
	struct cleartap_handoff_attachment report;
	char name[CLEARTAP_PATH_LEN + 1];
	size_t n = strnlen(path, size);

	if (!p->probes)
		return; /* replaying records: nothing to attach */
	memcpy(name, path, n);
	name[n] = '\0';
	if (probe_requests_file(p->probes, pid, name, mnt_ns, is_library, &report) > 0)
		pipeline_attachment(p, &report, pid, is_library);
}

/*
 * A plain TCP connection's streams end with it, as a TLS session's end with SSL_free: what was
 * waiting for more bytes (a response framed by the close) is complete now.
 */
static void end_plain_streams(struct pipeline *p, const struct conn_info *info)
{
	struct reasm_session_end end = {
	    .tgid = info->plain_pid,
	    .session = info->cookie,
	    .bytes_written = info->stream_length[CLEARTAP_DIR_WRITE],
	    .bytes_read = info->stream_length[CLEARTAP_DIR_READ],
	    .lengths_known = info->stream_length[0] || info->stream_length[1],
	    .time_ns = info->close_ns,
	};

	reasm_end_streams(p->reasm, &end);
}

static void export_connection(void *userdata, const struct conn_info *info)
{
	struct pipeline *p = userdata;

	if (filter_connection(p->config.filter, info) &&
	    (!info->pid || process_wanted(p, info->pid, NULL)))
		exporter_connection(p->exporter, info, false);
}

static void dispatch(struct pipeline *p, const void *data, size_t size)
{
	switch (record_validate(data, size)) {
	case CLEARTAP_REC_TLS_DATA: {
		const struct cleartap_tls_data *rec = data;
		const struct conn_info *closed = NULL;

		if (p->config.drop_chunk && p->config.drop_chunk(p->config.drop_userdata, data))
			break;
		/*
		 * Plain data is noted as it arrives, not as reassembly releases it: the close must
		 * know whose streams to end while they wait behind a hole, and ending them from
		 * reassembly's own release would change a stream it is finishing.
		 */
		if (rec->flags & CLEARTAP_DATA_PLAIN)
			closed = conn_table_note_plain(p->conns, rec->conn_cookie, rec->hdr.tgid);
		else
			tls_coverage_data(p->coverage, p->conns, data);
		reasm_add_chunk(p->reasm, data); /* -ENOMEM: counted as refusedChunks */
		if (closed) /* drained from one ring after its close from another: ends later */
			end_plain_streams(p, closed);
		break;
	}
	case CLEARTAP_REC_TLS_FREE:
		reasm_end_session(p->reasm, data);
		break;
	case CLEARTAP_REC_TLS_HELLO: {
		const struct cleartap_tls_data *rec = data;
		const struct conn_info *info;
		int r = conn_table_hello(p->conns, rec, &info);

		if (r == -EBADMSG)
			p->counters.malformed_hellos++;
		else if (r == -ENOMEM)
			p->counters.refused_records++;
		else if (r == 1 && filter_connection(p->config.filter, info) &&
			 process_wanted(p, rec->hdr.tgid, NULL))
			exporter_connection(p->exporter, info, true);
		break;
	}
	case CLEARTAP_REC_LIB_OPEN: {
		const struct cleartap_lib_open *rec = data;

		examine_file(p, rec->hdr.tgid, rec->path, sizeof(rec->path), rec->mnt_ns, true);
		break;
	}
	case CLEARTAP_REC_PROC: {
		const struct proc_info *info;
		int r = proc_table_apply(p->procs, data, &info);

		if (r == -ENOMEM)
			p->counters.refused_records++;
		else if (r == 0) {
			if (info->exited)
				reasm_end_process(p->reasm, info->pid, info->exit_ns);
			/* an executable with TLS built in (one already running, the loader saw) */
			if (!info->exited && !info->snapshot && info->exe[0])
				examine_file(p, info->pid, info->exe, sizeof(info->exe),
					     info->mnt_ns, false);
			if (filter_process(p->config.filter, info->pid, info->comm, info->exe))
				exporter_process(p->exporter, info);
		} else if (r != -EEXIST)
			p->counters.malformed_records++;
		break;
	}
	case CLEARTAP_REC_CONN: {
		const struct conn_info *info;
		int r = conn_table_apply(p->conns, data, &info);

		if (r == 0) {
			if (info->closed && info->plain)
				end_plain_streams(p, info);
			else if (info->closed && info->tls_session)
				reasm_end_connection(p->reasm, info->tls_tgid, info->tls_session,
						     info->close_ns);
			/* a TLS connection nothing was captured of: said why once judged */
			if (!info->closed || !tls_coverage_closed(p->coverage, info))
				export_connection(p, info);
		} else if (r == -ENOMEM)
			p->counters.refused_records++;
		else
			p->counters.malformed_records++;
		break;
	}
	default:
		p->counters.malformed_records++;
		break;
	}
}

static void on_segment(void *userdata, const struct reasm_segment *segment)
{
	struct pipeline *p = userdata;
	char comm[CLEARTAP_COMM_LEN + 1] = {};

	memcpy(comm, segment->comm, CLEARTAP_COMM_LEN);
	if (!process_wanted(p, segment->tgid, comm) ||
	    !filter_connection(p->config.filter, conn_table_get(p->conns, segment->conn_cookie)))
		return;

	if (p->config.raw)
		exporter_segment(p->exporter, segment);
	if (http_sessions_segment(p->http, segment) < 0)
		p->counters.output_errors++;
}

static void on_session_end(void *userdata, const struct reasm_session_end *end)
{
	struct pipeline *p = userdata;

	http_sessions_end(p->http, end->tgid, end->session, end->time_ns);
	if (end->ssl) /* a plain connection's end is its Connection close record */
		exporter_session_end(p->exporter, end);
}

static void on_transaction(void *userdata, const struct http_txn *txn)
{
	exporter_transaction(userdata, txn);
}

int pipeline_init(struct pipeline *p, const struct pipeline_config *config,
		  struct exporter *exporter, struct probe_requests *probes)
{
	struct reasm_config rc = {
	    .max_call_bytes = config->max_call_bytes,
	    .max_pending_bytes = config->max_pending_bytes,
	    .max_stream_pending_bytes = config->connection_memory ? config->connection_memory
								  : HTTP_DEFAULT_CONNECTION_MEMORY,
	    .hold_ns = config->hold_ns,
	    .idle_ns = config->idle_ns,
	};
	struct reasm_ops ops = {.segment = on_segment, .session_end = on_session_end};
	int r;

	memset(p, 0, sizeof(*p));
	p->config = *config;
	p->exporter = exporter;
	p->probes = probes;
	if ((r = conn_table_new(&p->conns)) < 0 || (r = proc_table_new(&p->procs)) < 0 ||
	    (r = tls_coverage_new(&p->coverage)) < 0)
		return r;
	exporter_set_connections(exporter, p->conns);
	exporter_set_processes(exporter, p->procs, config->all_processes);
	exporter_set_redactor(exporter, config->redactor); /* it knows whether it is enabled */
	exporter_set_capture_rules(exporter, config->capture);
	r = http_sessions_new(
	    &(struct http_session_config){.body_limit = config->body_limit,
					  .max_waiting = config->max_waiting,
					  .connection_memory = config->connection_memory,
					  .redactor = config->redactor},
	    on_transaction, exporter, &p->http);
	if (r < 0)
		return r;
	return reasm_new(&rc, &ops, p, &p->reasm);
}

void pipeline_free(struct pipeline *p)
{
	reasm_free(p->reasm);
	http_sessions_free(p->http);
	tls_coverage_free(p->coverage);
	conn_table_free(p->conns);
	proc_table_free(p->procs);
	record_batch_free(&p->batch);
}

void pipeline_add(struct pipeline *p, const void *data, size_t size)
{
	p->counters.records++;
	p->counters.record_bytes += size;
	if (record_batch_add(&p->batch, data, size) == -EBADMSG)
		p->counters.malformed_records++;
}

void pipeline_run_pass(struct pipeline *p)
{
	if (p->batch.data.failed)
		p->counters.output_errors++; /* out of memory: this pass is partly lost */
	record_batch_sort(&p->batch);
	for (size_t i = 0; i < p->batch.n; i++) {
		size_t size;
		const void *record = record_batch_get(&p->batch, i, &size);

		dispatch(p, record, size);
	}
	record_batch_reset(&p->batch);
}

/* Closed TLS connections whose verdict is due (UINT64_MAX: all) are exported with it. */
static void judge_connections(struct pipeline *p, uint64_t now_ns)
{
	p->counters.plaintext_missed +=
	    tls_coverage_due(p->coverage, p->conns, now_ns, export_connection, p);
}

void pipeline_tick(struct pipeline *p, uint64_t now_ns)
{
	reasm_tick(p->reasm, now_ns);
	judge_connections(p, now_ns);
	/* closed connections stay a minute: their last exchanges are often reported later */
	if (++p->ticks % 100 == 0) {
		conn_table_expire(p->conns, now_ns, 60ULL * 1000000000);
		proc_table_expire(p->procs, now_ns, 60ULL * 1000000000);
		tls_coverage_expire(p->coverage, now_ns, 600ULL * 1000000000);
	}
	exporter_tick(p->exporter);
}

void pipeline_finish(struct pipeline *p)
{
	reasm_flush_all(p->reasm);
	http_sessions_flush(p->http);
	judge_connections(p, UINT64_MAX);
}
