/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_EXPORT_H
#define CT_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cleartap/events.h"
#include "cleartap/handoff.h"
#include "cleartap.pb-c.h"
#include "conn_table.h"
#include "proc_table.h"
#include "http_session.h"
#include "capture_rules.h"
#include "http_txn.h"
#include "reassembly.h"
#include "redact.h"

/* The export schema's version (proto/cleartap.proto; the README lists what changed). */
#define CLEARTAP_EXPORT_SCHEMA "1.2"

enum export_format {
	EXPORT_JSON, /* one proto3-JSON Record per line */
	EXPORT_TEXT, /* for people: one line per HTTP transaction (and raw segments if asked) */
};

struct exporter;

struct container_names_dir;

/* What the collector itself counted, exported with every stats record. */
struct collector_counters {
	uint64_t records, record_bytes, malformed_records, output_errors, connections, processes;
	uint64_t probed_files, unprobed_files, malformed_hellos;
	uint64_t plaintext_missed; /* TLS connections closed with no plaintext captured, and why */
	uint64_t refused_records; /* connection, process and hello records not applied: no memory */
};

/*
 * Records go to out in format; with proto_dest ("PATH" appends to a file, "unix:PATH" connects
 * to a stream socket) also as length-delimited protobuf. Returns 0 or -errno.
 */
int exporter_new(FILE *out, enum export_format format, const char *proto_dest,
		 struct exporter **ret);
void exporter_free(struct exporter *e);

/* A --proto file sink continues in fd (its file reopened after rotation); -EINVAL otherwise. */
int exporter_replace_proto_file(struct exporter *e, int fd);

void exporter_segment(struct exporter *e, const struct reasm_segment *segment);
void exporter_session_end(struct exporter *e, const struct reasm_session_end *end);
void exporter_transaction(struct exporter *e, const struct http_txn *txn);
/* An open or close, or (handshake) the moment both TLS hellos were parsed. */
void exporter_connection(struct exporter *e, const struct conn_info *conn, bool handshake);
void exporter_process(struct exporter *e, const struct proc_info *proc);
/* proc: the process a later file was asked for (NULL for start-up's files, or unknown). */
void exporter_attachment(struct exporter *e, const struct cleartap_handoff_attachment *a,
			 uint32_t pid, const struct proc_info *proc);

/* Where records find their containers' Kubernetes names (may be NULL). */
void exporter_set_container_names(struct exporter *e, struct container_names_dir *names);

/* Where records find their process's executable, container and uid (may be NULL). */
/* Query parameters, form and JSON body fields the redactor names are replaced on export. */
void exporter_set_redactor(struct exporter *e, const struct redactor *r);

/* How much of each HTTP exchange goes out (capture_rules.h); NULL: everything. */
void exporter_set_capture_rules(struct exporter *e, const struct capture_rules *rules);

/*
 * The process table records are resolved against. Unless all, a process record goes out only
 * for a process other records name: the first time one does, then at its exit.
 */
void exporter_set_processes(struct exporter *e, struct proc_table *procs, bool all);

/* What the kernel lacks (enum cleartap_kernel_feature absent), named in every stats record. */
void exporter_set_kernel_features(struct exporter *e, uint32_t present);

/* Where data and transactions find their connection's endpoints (may be NULL). */
void exporter_set_connections(struct exporter *e, const struct conn_table *conns);
/* The stats counters as the Stats record carries them (the metrics endpoint reads them too). */
void exporter_fill_counters(const struct exporter *e, const uint64_t k[CLEARTAP_CNT__MAX],
			    const struct reasm_counters *reasm,
			    const struct http_session_counters *http,
			    const struct collector_counters *c,
			    Cleartap__V1__KernelCounters *ret_kernel,
			    Cleartap__V1__CollectorCounters *ret_collector);
void exporter_stats(struct exporter *e, const uint64_t kernel[CLEARTAP_CNT__MAX],
		    const struct reasm_counters *reasm, const struct http_session_counters *http,
		    const struct collector_counters *collector, bool final);

/*
 * At exit: wait (within the sink's 2 s send timeout) until a slow --proto unix: consumer has
 * taken the queue, so the last records, the final stats among them, are not dropped for room.
 */
void exporter_drain_sink(struct exporter *e);

/* Re-read the monotonic -> wall clock offset and flush buffered output (and the sink's queue). */
void exporter_tick(struct exporter *e);

/*
 * A unix: sink whose consumer went away is closed; from then on its records count as
 * sinkDroppedRecords. Returns the errno that closed it, once (0: nothing new).
 */
int exporter_take_sink_error(struct exporter *e);

/* A unix: sink whose consumer is gone, or was not there at start-up. */
bool exporter_sink_down(const struct exporter *e);

/* Its consumer is back: records go to fd (connected) from now on. */
void exporter_replace_sink(struct exporter *e, int fd);

/* The process at the other end of a connected unix: sink (SO_PEERCRED), 0 when none or
 * systemd (which made the socket). */
uint32_t exporter_sink_peer_pid(const struct exporter *e);

/* cleartap-export's hello on the sink (cleartap/sink_hello.h): 1 with *ret_pid, 0 not yet,
 * -1 none will come (another consumer, or no sink). Read without blocking. */
int exporter_sink_hello(struct exporter *e, uint32_t *ret_pid);

/* Records that could not be written (a sink failed or memory ran out). */
uint64_t exporter_errors(const struct exporter *e);

#endif
