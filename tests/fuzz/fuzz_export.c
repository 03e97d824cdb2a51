/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cleartap-export's input path on arbitrary bytes: the record stream (chunked as the first byte
 * says), each record decoded and mapped to an OTLP log record. Whatever comes in, the request
 * made of it must decode as an ExportLogsServiceRequest with every log record in it.
 */
#include <stdlib.h>

#include "cleartap.pb-c.h"
#include "otlp_logs.h"
#include "otlp_logs.pb-c.h"
#include "record_stream.h"

static struct ct_buf queue, resource, request;
static size_t queued;

static void on_record(void *ctx, const uint8_t *data, size_t len)
{
	Cleartap__V1__Record *rec = cleartap__v1__record__unpack(NULL, len, data);

	(void)ctx;
	if (!rec)
		return;
	if (otlp_log_from_record(rec, 1, &queue) == 0)
		queued++;
	cleartap__v1__record__free_unpacked(rec, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record_stream rs = {.max_record = 1 << 16};
	Cleartap__Otlp__V1__ExportLogsServiceRequest *req;
	size_t chunk = size ? (size_t)data[0] + 1 : 1;
	uint64_t oversized = 0;

	if (!resource.len)
		otlp_resource_pack("fuzz", NULL, 0, &resource);
	ct_buf_reset(&queue);
	queued = 0;
	for (size_t pos = size ? 1 : 0; pos < size; pos += chunk)
		if (record_stream_feed(&rs, data + pos, pos + chunk < size ? chunk : size - pos,
				       on_record, NULL, &oversized) < 0)
			break;
	record_stream_free(&rs);
	otlp_request_write(&request, &resource, queue.data, queue.len);
	req = cleartap__otlp__v1__export_logs_service_request__unpack(NULL, request.len,
								      request.data);
	if (!req || req->n_resource_logs != 1 || req->resource_logs[0]->n_scope_logs != 1 ||
	    req->resource_logs[0]->scope_logs[0]->n_log_records != queued)
		abort();
	cleartap__otlp__v1__export_logs_service_request__free_unpacked(req, NULL);
	return 0;
}
