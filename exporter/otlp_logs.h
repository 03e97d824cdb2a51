/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cleartap records as OTLP log records (OpenTelemetry's HTTP, network, RPC, process, container
 * and Kubernetes semantic conventions), and the ExportLogsServiceRequest that carries them.
 * Log records are packed one by one as they arrive; a request is those bytes inside one
 * ResourceLogs / ScopeLogs envelope, so a batch costs no second encoding.
 */
#ifndef CT_OTLP_LOGS_H
#define CT_OTLP_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cleartap.pb-c.h"

/* The exporter's own counters, sent as a "cleartap.export.stats" log record. */
struct export_counters {
	uint64_t received;	     /* records read from collectors */
	uint64_t skipped;	     /* of those, kinds with no log record (TLS data, processes) */
	uint64_t malformed;	     /* records that could not be decoded */
	uint64_t oversized;	     /* records above the size limit, skipped unread */
	uint64_t queued;	     /* log records waiting to be sent now */
	uint64_t sent;		     /* log records the receiver accepted */
	uint64_t requests;	     /* export requests that succeeded */
	uint64_t retries;	     /* requests sent again after a retryable failure */
	uint64_t dropped_queue_full; /* log records dropped: the queue was full */
	uint64_t rejected;	     /* log records the receiver refused (non-retryable status, or
					partial success) */
	uint64_t failed;	     /* log records dropped after --max-retry-time of retries */
	uint64_t refused_clients;    /* connections from users other than --allow-user */
};

/* Each counter by name ("sent"), for the stats log line and the stats log record alike. */
struct export_counter_field {
	const char *name;
	size_t offset;
};
extern const struct export_counter_field export_counter_fields[];
extern const size_t export_counter_fields_count;
uint64_t export_counter_value(const struct export_counters *c, size_t i);

/*
 * rec as one LogRecord appended to out, framed as a ScopeLogs.log_records field (tag and
 * length, then the packed message), observed at observed_unix_ns. -ENOENT: this kind of record
 * has no log record (counted as skipped); -ENOMEM: out failed.
 */
int otlp_log_from_record(const Cleartap__V1__Record *rec, uint64_t observed_unix_ns,
			 struct ct_buf *out);

/* The exporter's own counters as one framed LogRecord ("cleartap.export.stats"). */
int otlp_log_from_counters(const struct export_counters *c, uint64_t now_unix_ns, bool final,
			   struct ct_buf *out);

/* Bytes of the framed log record at p (as appended above). */
size_t otlp_framed_record_size(const uint8_t *p);

/*
 * The resource every request carries: service.name "cleartap", host.name, and the operator's
 * extra attributes ("key=value" each). Packed once into ret_resource. -EINVAL: not key=value.
 */
int otlp_resource_pack(const char *host_name, const char *const *extra, size_t n_extra,
		       struct ct_buf *ret_resource);

/* An ExportLogsServiceRequest: the packed resource and framed log records, concatenated. */
void otlp_request_write(struct ct_buf *out, const struct ct_buf *resource, const uint8_t *records,
			size_t records_len);

/* The rejected count of an ExportLogsServiceResponse body (0 when none, or undecodable). */
int64_t otlp_response_rejected(const uint8_t *body, size_t len, char *message, size_t message_size);

#endif
