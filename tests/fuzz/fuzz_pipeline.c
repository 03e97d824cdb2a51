/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the whole collector path after the ring buffers. The input is read as a series of
 * raw kernel records (sizes, offsets and types as an attacker or a bug might make them), then
 * run through the collector's own pipeline module (validation, time order, connection and
 * process tables, reassembly, HTTP/1 or HTTP/2, JSON and protobuf export), with raw segments
 * exported too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null_out;
	struct filter filter = {};
	struct redactor redactor;
	struct exporter *exporter;
	struct pipeline p;
	size_t at = 0;
	uint64_t now = 0;

	if (!null_out)
		null_out = fopen("/dev/null", "w");
	redactor_init(&redactor);
	redactor.enabled = true;
	if (exporter_new(null_out, EXPORT_JSON, "/dev/null", &exporter) < 0)
		return 0;
	if (pipeline_init(&p,
			  &(struct pipeline_config){.filter = &filter,
						    .redactor = &redactor,
						    .raw = true,
						    .body_limit = 512,
						    .max_call_bytes = 1 << 20,
						    .max_pending_bytes = 1 << 22,
						    .hold_ns = 1000},
			  exporter, NULL) < 0) {
		pipeline_free(&p);
		exporter_free(exporter);
		return 0;
	}
	/* records: u16 length, then that many bytes; every 4th record ends a drain pass */
	for (unsigned n = 0; at + 2 <= size; n++) {
		size_t len = (size_t)data[at] | (size_t)data[at + 1] << 8;

		at += 2;
		if (len > size - at)
			len = size - at;
		pipeline_add(&p, data + at, len);
		at += len;
		if (n % 4 == 3 || at + 2 > size) {
			pipeline_run_pass(&p);
			pipeline_tick(&p, now += 600);
		}
	}
	pipeline_finish(&p);
	pipeline_free(&p);
	exporter_free(exporter);
	return 0;
}
