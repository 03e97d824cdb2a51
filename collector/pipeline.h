/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Everything the collector does with kernel records once they are out of the rings: validate,
 * order each drain pass by time, keep the connection and process tables, reassemble streams,
 * parse HTTP and export. The live collector and the replay benchmark run this same code.
 */
#ifndef CT_PIPELINE_H
#define CT_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn_table.h"
#include "export.h"
#include "filter.h"
#include "http_session.h"
#include "probe_requests.h"
#include "proc_table.h"
#include "reassembly.h"
#include "record_batch.h"
#include "redact.h"
#include "tls_coverage.h"

/* The collector's defaults (--body-limit, --max-pending-bytes, --memory-limit,
 * --reorder-window-ms). */
#define PIPELINE_DEFAULT_BODY_LIMIT	   (64 * 1024)
#define PIPELINE_DEFAULT_PENDING_BYTES	   (128ULL << 20)
#define PIPELINE_DEFAULT_MEMORY_LIMIT	   (256ULL << 20) /* fits the manifest's 512 Mi */
#define PIPELINE_DEFAULT_REORDER_WINDOW_MS 250

struct pipeline_config {
	const struct filter *filter;
	const struct redactor *redactor;
	const struct capture_rules *capture; /* NULL: every exchange in full */
	bool raw;			     /* also export the reassembled plaintext segments */
	bool all_processes; /* a process record for every process, not only those named */
	uint32_t body_limit;
	uint32_t max_waiting; /* HTTP/1 requests waiting per connection; 0: the default */
	uint64_t max_call_bytes;
	uint64_t max_pending_bytes;
	uint64_t connection_memory; /* HTTP state and pending calls per stream; 0: the default */
	uint64_t hold_ns;	    /* how long a hole in a stream is waited for */
	uint64_t idle_ns; /* a session without calls this long ends (0: REASM_DEFAULT_IDLE_NS) */
	/* test builds only (gap drills): a data chunk to lose as if the ring had been full */
	bool (*drop_chunk)(void *userdata, const struct cleartap_tls_data *rec);
	void *drop_userdata;
};

struct pipeline {
	struct pipeline_config config;
	struct record_batch batch;
	struct reasm *reasm;
	struct http_sessions *http;
	struct conn_table *conns;
	struct proc_table *procs;
	struct probe_requests *probes; /* NULL: files that appear later are not asked for */
	struct tls_coverage *coverage;
	struct exporter *exporter;
	struct collector_counters counters;
	/* files the loader reported on, by enum cleartap_attach_library and status */
	uint64_t files[CLEARTAP_LIB__COUNT][CLEARTAP_ATTACH__COUNT];
	uint64_t ticks;
};

/* exporter and probes (may be NULL) stay the caller's. Returns 0 or -errno. */
int pipeline_init(struct pipeline *p, const struct pipeline_config *config,
		  struct exporter *exporter, struct probe_requests *probes);

/* Count and export what became of a file (the loader's answer, or the collector's own). */
void pipeline_attachment(struct pipeline *p, const struct cleartap_handoff_attachment *report,
			 uint32_t pid, bool is_library);
void pipeline_free(struct pipeline *p);

/* One record as a ring gave it: kept for this drain pass. */
void pipeline_add(struct pipeline *p, const void *data, size_t size);

/* The end of a drain pass: everything added, in time order, through every stage. */
void pipeline_run_pass(struct pipeline *p);

/* The periodic work after each pass: holes given up on, old connections and processes. */
void pipeline_tick(struct pipeline *p, uint64_t now_ns);

/* At exit, after the last pass: every pending call, transaction and verdict out. */
void pipeline_finish(struct pipeline *p);

#endif
