/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's throughput on one core, end to end, from real kernel records: a file made by
 * `cleartap-collector --record-to` is replayed pass by pass through the very pipeline the live
 * collector runs (validation, time order, connection and process tables, reassembly, HTTP/1
 * and HTTP/2, JSON lines written to /dev/null). REPEAT replays it again with fresh session and
 * connection ids and shifted clocks, so every repetition is new traffic to the collector.
 * Prints transactions per CPU second (CLOCK_PROCESS_CPUTIME_ID: one thread, one core). With OUT,
 * the JSON lines go there instead: two builds' outputs of one recording can be compared.
 * Usage: replay_bench RECORDS [REPEAT [OUT]]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleartap/events.h"
#include "pipeline.h"
#include "record_file.h"

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *load(const char *path, size_t *ret_len)
{
	struct stat st;
	uint8_t *data;
	size_t have = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0 || !(data = malloc((size_t)st.st_size + 1)))
		return NULL;
	while (have < (size_t)st.st_size) {
		ssize_t n = read(fd, data + have, (size_t)st.st_size - have);

		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	*ret_len = have;
	return data;
}

/* Repetition rep of a record: its own sessions and connections, its own time. */
static void remap(uint8_t *rec, size_t size, uint64_t salt, uint64_t shift)
{
	struct cleartap_record_header *hdr = (void *)rec;

	hdr->timestamp_ns += shift;
	switch (hdr->type) {
	case CLEARTAP_REC_TLS_DATA:
	case CLEARTAP_REC_TLS_HELLO:
		if (size >= sizeof(struct cleartap_tls_data)) {
			struct cleartap_tls_data *d = (void *)rec;

			d->session_id += salt;
			d->conn_cookie += d->conn_cookie ? salt : 0;
			d->call_start_ns += shift;
		}
		break;
	case CLEARTAP_REC_TLS_FREE:
		if (size >= sizeof(struct cleartap_tls_free))
			((struct cleartap_tls_free *)rec)->session_id += salt;
		break;
	case CLEARTAP_REC_CONN:
		if (size >= sizeof(struct cleartap_conn))
			((struct cleartap_conn *)rec)->cookie += salt;
		break;
	default:
		break;
	}
}

int main(int argc, char **argv)
{
	static uint8_t scratch[sizeof(struct cleartap_tls_data) + CLEARTAP_CHUNK_MAX + 4096];
	struct filter filter = {};
	struct redactor redactor;
	struct exporter *exporter;
	struct pipeline p;
	uint64_t first_ts = 0, last_ts = 0, records = 0, passes = 0;
	unsigned long repeat = argc > 2 ? strtoul(argv[2], NULL, 10) : 1;
	size_t len = 0;
	uint8_t *data;
	FILE *null_out;
	double t0, t1;

	if (argc < 2 || argc > 4 || repeat == 0) {
		fprintf(stderr, "usage: replay_bench RECORDS [REPEAT [OUT]]\n");
		return 2;
	}
	data = load(argv[1], &len);
	null_out = fopen(argc > 3 ? argv[3] : "/dev/null", "w");
	if (!data || !null_out || redactor_init(&redactor) < 0 ||
	    exporter_new(null_out, EXPORT_JSON, NULL, &exporter) < 0) {
		fprintf(stderr, "replay_bench: cannot load %s\n", argv[1]);
		return 1;
	}
	/* the collector's defaults: credentials redacted */
	redactor.enabled = true;
	if (pipeline_init(&p,
			  &(struct pipeline_config){
			      .filter = &filter,
			      .redactor = &redactor,
			      .body_limit = PIPELINE_DEFAULT_BODY_LIMIT,
			      .max_call_bytes = CLEARTAP_DEFAULT_MAX_CALL_BYTES,
			      .max_pending_bytes = PIPELINE_DEFAULT_PENDING_BYTES,
			      .hold_ns = PIPELINE_DEFAULT_REORDER_WINDOW_MS * 1000000ULL},
			  exporter, NULL) < 0)
		return 1;

	/* the clock span of the file, so that repetitions follow each other in time */
	for (size_t pos = 0;;) {
		size_t size;
		int err;
		const struct cleartap_record_header *h =
		    record_file_next(data, len, &pos, &size, &err);

		if (err < 0) {
			fprintf(stderr, "replay_bench: %s is malformed at byte %zu\n", argv[1],
				pos);
			return 1;
		}
		if (!h && size == 1)
			break;
		if (!h)
			continue;
		if (h->version != CLEARTAP_SCHEMA_VERSION) {
			/* every such record would be refused: say so instead of replaying none */
			fprintf(stderr,
				"replay_bench: %s holds records of schema %u, this build reads %u: "
				"record them again with this build's collector\n",
				argv[1], h->version, CLEARTAP_SCHEMA_VERSION);
			return 1;
		}
		if (!first_ts || h->timestamp_ns < first_ts)
			first_ts = h->timestamp_ns;
		if (h->timestamp_ns > last_ts)
			last_ts = h->timestamp_ns;
	}

	t0 = cpu_seconds();
	for (unsigned long rep = 0; rep < repeat; rep++) {
		uint64_t shift = rep * (last_ts - first_ts + 1000000000ULL), now = 0;

		for (size_t pos = 0;;) {
			size_t size;
			int err;
			const void *rec = record_file_next(data, len, &pos, &size, &err);

			if (!rec && size == 1)
				break;
			if (!rec) { /* end of a drain pass */
				pipeline_run_pass(&p);
				pipeline_tick(&p, now);
				passes++;
				continue;
			}
			if (size > sizeof(scratch))
				continue;
			memcpy(scratch, rec, size);
			remap(scratch, size, (uint64_t)rep << 48, shift);
			now = ((struct cleartap_record_header *)scratch)->timestamp_ns;
			pipeline_add(&p, scratch, size);
			records++;
		}
	}
	reasm_flush_all(p.reasm);
	http_sessions_flush(p.http);
	exporter_tick(exporter);
	t1 = cpu_seconds();

	printf("replayed %lu x %s: %llu records in %llu drain passes\n", repeat, argv[1],
	       (unsigned long long)records, (unsigned long long)passes);
	printf("%llu HTTP transactions (%llu malformed, %llu desynchronised), %.3f CPU s: %.0f "
	       "transactions/s per core, with JSON lines written\n",
	       (unsigned long long)http_sessions_counters(p.http)->transactions,
	       (unsigned long long)http_sessions_counters(p.http)->malformed,
	       (unsigned long long)http_sessions_counters(p.http)->desynchronised, t1 - t0,
	       (double)http_sessions_counters(p.http)->transactions / (t1 - t0));
	pipeline_free(&p);
	exporter_free(exporter);
	free(data);
	return 0;
}
