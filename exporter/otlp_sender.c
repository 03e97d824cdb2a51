/* SPDX-License-Identifier: Apache-2.0 */
#include "otlp_sender.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "ct_macro.h"

#define RESPONSE_MAX	 (64u << 10) /* of a response body kept: a partial success, an error */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS	 30000

struct otlp_sender {
	struct otlp_sender_options opt;
	const struct ct_buf *resource;
	struct export_counters *counters;
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;

	/* framed log records; those before head are gone (compacted when head passes half) */
	struct ct_buf queue;
	size_t head, queued;
	uint64_t oldest_ms; /* when the oldest queued record came (batch delay) */

	/* the batch: the first batch_count records at head, until sent or given up */
	size_t batch_count, batch_len;
	struct ct_buf body, compressed, response;
	bool in_flight;
	unsigned attempts;
	uint64_t first_attempt_ms, retry_at_ms; /* retry_at_ms 0: not waiting to retry */
	long retry_after_s;			/* from the last response, -1: none */
};

static void log_none(const char *fmt, ...)
{
	(void)fmt;
}

static size_t on_response_body(char *p, size_t size, size_t n, void *ctx)
{
	struct otlp_sender *s = ctx;
	size_t len = size * n, room = RESPONSE_MAX - s->response.len;

	ct_buf_put(&s->response, p, len < room ? len : room);
	return len;
}

static size_t on_response_header(char *p, size_t size, size_t n, void *ctx)
{
	struct otlp_sender *s = ctx;
	size_t len = size * n;
	static const char name[] = "retry-after:";

	if (len > sizeof(name) && strncasecmp(p, name, sizeof(name) - 1) == 0) {
		char *end;
		long v = strtol(p + sizeof(name) - 1, &end, 10);

		if (end != p + sizeof(name) - 1 && v >= 0)
			s->retry_after_s = v; /* an HTTP date is not honoured: backoff applies */
	}
	return len;
}

int otlp_sender_new(const struct otlp_sender_options *opt, const struct ct_buf *resource,
		    struct export_counters *counters, struct otlp_sender **ret)
{
	struct otlp_sender *s = calloc(1, sizeof(*s));
	const char *content_type = "Content-Type: application/x-protobuf";

	if (!s)
		return -ENOMEM;
	s->opt = *opt;
	if (!s->opt.log)
		s->opt.log = log_none;
	s->resource = resource;
	s->counters = counters;
	s->multi = curl_multi_init();
	s->easy = curl_easy_init();
	s->headers = curl_slist_append(NULL, content_type);
	if (opt->gzip)
		s->headers = curl_slist_append(s->headers, "Content-Encoding: gzip");
	s->headers = curl_slist_append(s->headers, "Expect:"); /* no 100-continue round trip */
	for (size_t i = 0; i < opt->n_headers; i++)
		s->headers = curl_slist_append(s->headers, opt->headers[i]);
	if (!s->multi || !s->easy || !s->headers) {
		otlp_sender_free(s);
		return -ENOMEM;
	}
	/* one connection, kept alive between requests; no redirects, no other protocols */
	if (curl_easy_setopt(s->easy, CURLOPT_URL, opt->endpoint) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, (long)opt->timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_response_body) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, on_response_header) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_USERAGENT, "cleartap-export/" CLEARTAP_VERSION) !=
		CURLE_OK ||
	    (opt->ca_file && curl_easy_setopt(s->easy, CURLOPT_CAINFO, opt->ca_file) != CURLE_OK)) {
		otlp_sender_free(s);
		return -EINVAL;
	}
	*ret = s;
	return 0;
}

struct ct_buf *otlp_sender_queue(struct otlp_sender *s)
{
	return &s->queue;
}

void otlp_sender_commit(struct otlp_sender *s, size_t len_before)
{
	size_t len = s->queue.len - len_before;

	if (s->queue.failed || s->queued >= s->opt.queue_records ||
	    s->queue.len - s->head > s->opt.queue_bytes) {
		s->queue.len = len_before;
		s->queue.failed = false;
		s->counters->dropped_queue_full++;
		return;
	}
	if (!len)
		return;
	if (!s->queued)
		s->oldest_ms = ct_monotonic_ms();
	s->queued++;
	s->counters->queued = s->queued;
}

CURLM *otlp_sender_multi(struct otlp_sender *s)
{
	return s->multi;
}

bool otlp_sender_idle(const struct otlp_sender *s)
{
	return !s->queued && !s->in_flight;
}

/* The batch leaves the queue (sent, refused or given up). */
static void batch_done(struct otlp_sender *s)
{
	s->head += s->batch_len;
	s->queued -= s->batch_count;
	s->counters->queued = s->queued;
	s->batch_count = s->batch_len = 0;
	s->attempts = 0;
	s->retry_at_ms = 0;
	if (s->head > s->queue.len / 2) {
		memmove(s->queue.data, s->queue.data + s->head, s->queue.len - s->head);
		s->queue.len -= s->head;
		s->head = 0;
	}
	if (s->queued)
		s->oldest_ms = ct_monotonic_ms(); /* the rest waits no longer than a new batch */
}

static int gzip_body(struct otlp_sender *s)
{
	z_stream z = {0};
	int r;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -ENOMEM;
	ct_buf_reset(&s->compressed);
	if (!ct_buf_reserve(&s->compressed, deflateBound(&z, s->body.len))) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = s->body.data;
	z.avail_in = (uInt)s->body.len;
	z.next_out = s->compressed.data;
	z.avail_out = (uInt)s->compressed.cap;
	r = deflate(&z, Z_FINISH);
	s->compressed.len = z.total_out;
	deflateEnd(&z);
	return r == Z_STREAM_END ? 0 : -EIO;
}

/* Take the next batch off the queue's head and build its request body. */
static int batch_build(struct otlp_sender *s)
{
	const uint8_t *p = s->queue.data + s->head;
	size_t avail = s->queue.len - s->head;

	s->batch_count = s->batch_len = 0;
	while (s->batch_count < s->queued && s->batch_count < s->opt.batch_records) {
		size_t size = otlp_framed_record_size(p + s->batch_len);

		if (s->batch_count && s->batch_len + size > s->opt.batch_bytes)
			break;
		if (s->batch_len + size > avail)
			break; /* cannot happen: every committed record is whole */
		s->batch_len += size;
		s->batch_count++;
	}
	otlp_request_write(&s->body, s->resource, p, s->batch_len);
	if (s->body.failed)
		return -ENOMEM;
	return s->opt.gzip ? gzip_body(s) : 0;
}

static int request_start(struct otlp_sender *s)
{
	const struct ct_buf *b = s->opt.gzip ? &s->compressed : &s->body;

	ct_buf_reset(&s->response);
	s->retry_after_s = -1;
	if (curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->len) !=
		CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, b->data) != CURLE_OK ||
	    curl_multi_add_handle(s->multi, s->easy) != CURLM_OK)
		return -EIO;
	s->in_flight = true;
	if (!s->attempts++)
		s->first_attempt_ms = ct_monotonic_ms();
	else
		s->counters->retries++;
	return 0;
}

static bool retryable_status(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504;
}

/* Backoff doubling from 1 s up to 30 s, with jitter in its upper half; Retry-After wins. */
static uint64_t retry_delay_ms(const struct otlp_sender *s)
{
	uint64_t delay = BACKOFF_FIRST_MS << (s->attempts - 1 < 5 ? s->attempts - 1 : 5);

	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	delay = delay / 2 + (uint64_t)random() % (delay / 2 + 1);
	if (s->retry_after_s >= 0)
		delay = (uint64_t)s->retry_after_s * 1000;
	return delay;
}

static void request_finished(struct otlp_sender *s, CURLcode result)
{
	long status = 0;
	uint64_t now = ct_monotonic_ms(), delay;
	char why[160];

	curl_multi_remove_handle(s->multi, s->easy);
	s->in_flight = false;
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	if (result == CURLE_OK && status >= 200 && status < 300) {
		char message[256];
		int64_t rejected = otlp_response_rejected(s->response.data, s->response.len,
							  message, sizeof(message));

		if (rejected < 0 || (uint64_t)rejected > s->batch_count)
			rejected = (int64_t)s->batch_count;
		if (rejected)
			s->opt.log("the receiver rejected %lld of %zu log records: %s",
				   (long long)rejected, s->batch_count, message);
		s->counters->rejected += (uint64_t)rejected;
		s->counters->sent += s->batch_count - (uint64_t)rejected;
		s->counters->requests++;
		batch_done(s);
		return;
	}
	if (result != CURLE_OK)
		snprintf(why, sizeof(why), "%s", curl_easy_strerror(result));
	else
		snprintf(why, sizeof(why), "HTTP %ld", status);
	if (result == CURLE_OK && !retryable_status(status)) {
		s->opt.log("the receiver refused %zu log records (%s): %.*s", s->batch_count, why,
			   (int)(s->response.len < 200 ? s->response.len : 200),
			   (const char *)s->response.data);
		s->counters->rejected += s->batch_count;
		batch_done(s);
		return;
	}
	delay = retry_delay_ms(s);
	if (now + delay > s->first_attempt_ms + s->opt.max_retry_ms) {
		s->opt.log("giving up on %zu log records after %u attempts: %s", s->batch_count,
			   s->attempts, why);
		s->counters->failed += s->batch_count;
		batch_done(s);
		return;
	}
	if (s->attempts == 1)
		s->opt.log("export failed (%s): retrying %zu log records", why, s->batch_count);
	s->retry_at_ms = now + delay;
}

long otlp_sender_run(struct otlp_sender *s, bool flush)
{
	uint64_t now;
	CURLMsg *m;
	int running, left;

	curl_multi_perform(s->multi, &running);
	while ((m = curl_multi_info_read(s->multi, &left)))
		if (m->msg == CURLMSG_DONE && m->easy_handle == s->easy)
			request_finished(s, m->data.result);
	if (s->in_flight)
		return 1000;
	now = ct_monotonic_ms();
	if (s->batch_count) { /* waiting to retry */
		if (now < s->retry_at_ms)
			return (long)(s->retry_at_ms - now);
	} else {
		if (!s->queued)
			return 1000;
		if (!flush && s->queued < s->opt.batch_records &&
		    s->queue.len - s->head < s->opt.batch_bytes &&
		    now < s->oldest_ms + s->opt.batch_delay_ms)
			return (long)(s->oldest_ms + s->opt.batch_delay_ms - now);
		if (batch_build(s) < 0) {
			s->opt.log("no memory for a request of %zu log records: dropped",
				   s->batch_count);
			s->counters->failed += s->batch_count;
			batch_done(s);
			return 0;
		}
	}
	if (request_start(s) < 0) {
		s->counters->failed += s->batch_count;
		batch_done(s);
		return 0;
	}
	curl_multi_perform(s->multi, &running);
	return 0;
}

void otlp_sender_free(struct otlp_sender *s)
{
	if (!s)
		return;
	if (s->in_flight)
		curl_multi_remove_handle(s->multi, s->easy);
	s->counters->failed += s->queued;
	s->counters->queued = 0;
	curl_easy_cleanup(s->easy);
	curl_multi_cleanup(s->multi);
	curl_slist_free_all(s->headers);
	ct_buf_free(&s->queue);
	ct_buf_free(&s->body);
	ct_buf_free(&s->compressed);
	ct_buf_free(&s->response);
	free(s);
}
