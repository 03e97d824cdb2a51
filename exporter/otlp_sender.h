/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OTLP/HTTP side of cleartap-export: a bounded queue of log records, batches of them POSTed
 * as ExportLogsServiceRequest (application/x-protobuf) one request at a time, retried with
 * exponential backoff on the failures OTLP calls retryable (no answer, 429, 502, 503, 504,
 * honouring Retry-After), given up after max_retry_ms. What is dropped is counted: a full queue,
 * a refusal, a partial success, a batch that ran out of retries. libcurl does the HTTP.
 */
#ifndef CT_OTLP_SENDER_H
#define CT_OTLP_SENDER_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "otlp_logs.h"

struct otlp_sender_options {
	const char *endpoint;	    /* URL of the receiver's logs path (http://host:4318/v1/logs) */
	const char *const *headers; /* "Name: value" each, e.g. an authorization header */
	size_t n_headers;
	const char *ca_file;	 /* https: NULL for the system's CA certificates */
	bool gzip;		 /* Content-Encoding: gzip */
	size_t batch_records;	 /* a request carries at most this many log records */
	size_t batch_bytes;	 /* and at most about this many bytes of them */
	uint64_t batch_delay_ms; /* a smaller batch goes out this long after its first record */
	size_t queue_records;	 /* log records waiting (the request in flight included) */
	size_t queue_bytes;	 /* their bytes */
	uint64_t timeout_ms;	 /* one request */
	uint64_t max_retry_ms;	 /* a batch is dropped this long after its first attempt */
	void (*log)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
};

struct otlp_sender;

/* resource: otlp_resource_pack's. counters are updated in place. 0 or -errno. */
int otlp_sender_new(const struct otlp_sender_options *opt, const struct ct_buf *resource,
		    struct export_counters *counters, struct otlp_sender **ret);

/*
 * Where the next log record is appended (otlp_log_from_*), then otlp_sender_commit. A record
 * that would overfill the queue is dropped there and counted.
 */
struct ct_buf *otlp_sender_queue(struct otlp_sender *s);
void otlp_sender_commit(struct otlp_sender *s, size_t len_before);

/* Start the request that is due (a full batch, a delay run out, a retry's time), take finished
 * ones. flush: send what is queued now (shutting down). Returns ms until something is due. */
long otlp_sender_run(struct otlp_sender *s, bool flush);

CURLM *otlp_sender_multi(struct otlp_sender *s);

/* Nothing queued, nothing in flight. */
bool otlp_sender_idle(const struct otlp_sender *s);

/* What is still queued or in flight is dropped and counted as failed. */
void otlp_sender_free(struct otlp_sender *s);

#endif
