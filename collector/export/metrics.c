// SPDX-License-Identifier: Apache-2.0
#include "metrics.h"

#include <stdio.h>
#include <string.h>

#include "ct_macro.h"
#include "metric_help.h"

/* Counters of one kind told apart by a label: one family, not a metric each. */
struct labelled {
	const char *message, *field;
	const char *family, *label, *value;
};

static const struct labelled labelled[] = {
    {"KernelCounters", "drop_ring_full", "cleartap_kernel_dropped_records_total", "reason",
     "ring_full"},
    {"KernelCounters", "drop_read_fault", "cleartap_kernel_dropped_records_total", "reason",
     "read_fault"},
    {"KernelCounters", "drop_control", "cleartap_kernel_dropped_records_total", "reason",
     "session_end"},
    {"KernelCounters", "drop_conn", "cleartap_kernel_dropped_records_total", "reason",
     "connection"},
    {"KernelCounters", "drop_proc", "cleartap_kernel_dropped_records_total", "reason", "process"},
    {"KernelCounters", "drop_lib_open", "cleartap_kernel_dropped_records_total", "reason",
     "library_open"},
    {"KernelCounters", "drop_ring_full_bytes", "cleartap_kernel_dropped_bytes_total", "reason",
     "ring_full"},
    {"KernelCounters", "drop_read_fault_bytes", "cleartap_kernel_dropped_bytes_total", "reason",
     "read_fault"},
    {"CollectorCounters", "http1_transactions", "cleartap_http_transactions_by_protocol_total",
     "protocol", "http1"},
    {"CollectorCounters", "http2_transactions", "cleartap_http_transactions_by_protocol_total",
     "protocol", "http2"},
    {"CollectorCounters", "grpc_transactions", "cleartap_http_transactions_by_protocol_total",
     "protocol", "grpc"},
};

static const struct {
	const char *family, *help;
} family_help[] = {
    {"cleartap_kernel_dropped_records_total",
     "records the BPF programs could not submit, by reason (ring buffer full, user memory not "
     "readable) and record kind"},
    {"cleartap_kernel_dropped_bytes_total", "payload bytes of the dropped data records"},
    {"cleartap_http_transactions_by_protocol_total",
     "HTTP transactions exported by protocol (gRPC ones are HTTP/2 exchanges, counted there too)"},
};

/* Values that go up and down; every other counter only grows. */
static const char *const gauges[] = {
    "connections", "processes", "memory_used_bytes", "memory_peak_bytes", "memory_limit_bytes",
};

static const char *const library_names[METRICS_LIBRARIES] = {
    [CLEARTAP_LIB_UNKNOWN] = "unknown",
    [CLEARTAP_LIB_OPENSSL] = "openssl",
    [CLEARTAP_LIB_GNUTLS] = "gnutls",
    [CLEARTAP_LIB_GO] = "go",
};

static const char *const status_names[METRICS_ATTACH_STATUS] = {
    [CLEARTAP_ATTACH_ATTACHED] = "attached",
    [CLEARTAP_ATTACH_ALREADY_ATTACHED] = "already_attached",
    [CLEARTAP_ATTACH_SKIPPED] = "skipped",
    [CLEARTAP_ATTACH_FAILED] = "failed",
    [CLEARTAP_ATTACH_REFUSED] = "refused",
};

static const char *help_of(const char *message, const char *field)
{
	for (size_t i = 0; i < CT_ARRAY_SIZE(metric_help); i++)
		if (!strcmp(metric_help[i].message, message) &&
		    !strcmp(metric_help[i].field, field))
			return metric_help[i].help;
	return field;
}

static const struct labelled *labelled_of(const char *message, const char *field)
{
	for (size_t i = 0; i < CT_ARRAY_SIZE(labelled); i++)
		if (!strcmp(labelled[i].message, message) && !strcmp(labelled[i].field, field))
			return &labelled[i];
	return NULL;
}

static bool is_gauge(const char *field)
{
	for (size_t i = 0; i < CT_ARRAY_SIZE(gauges); i++)
		if (!strcmp(gauges[i], field))
			return true;
	return false;
}

/* HELP text escapes backslash and newline; the generated texts have neither, but stay safe. */
static void put_help(struct ct_buf *out, const char *name, const char *help)
{
	ct_buf_puts(out, "# HELP ");
	ct_buf_puts(out, name);
	ct_buf_putc(out, ' ');
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			ct_buf_puts(out, "\\\\");
		else if (*p == '\n')
			ct_buf_puts(out, "\\n");
		else
			ct_buf_putc(out, *p);
	}
	ct_buf_putc(out, '\n');
}

static void put_family(struct ct_buf *out, const char *name, const char *type, const char *help)
{
	put_help(out, name, help);
	ct_buf_printf(out, "# TYPE %s %s\n", name, type);
}

static void put_sample(struct ct_buf *out, const char *name, const char *labels, uint64_t value)
{
	ct_buf_puts(out, name);
	if (labels && *labels) {
		ct_buf_putc(out, '{');
		ct_buf_puts(out, labels);
		ct_buf_putc(out, '}');
	}
	ct_buf_putc(out, ' ');
	ct_buf_put_u64(out, value);
	ct_buf_putc(out, '\n');
}

static uint64_t field_value(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return *(const uint64_t *)((const char *)m + f->offset);
}

/* Every uint64 of a counters message that is not part of a labelled family. */
static void put_message(struct ct_buf *out, const ProtobufCMessage *m, const char *prefix)
{
	const char *message = m->descriptor->short_name;

	for (unsigned i = 0; i < m->descriptor->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &m->descriptor->fields[i];
		char name[128];
		bool gauge = is_gauge(f->name);

		if (f->type != PROTOBUF_C_TYPE_UINT64 || labelled_of(message, f->name))
			continue;
		snprintf(name, sizeof(name), "%s_%s%s", prefix, f->name, gauge ? "" : "_total");
		put_family(out, name, gauge ? "gauge" : "counter", help_of(message, f->name));
		put_sample(out, name, NULL, field_value(m, f));
	}
}

/* The labelled families, each once, with the samples of both messages that belong to it. */
static void put_labelled(struct ct_buf *out, const ProtobufCMessage *const messages[2])
{
	for (size_t k = 0; k < CT_ARRAY_SIZE(family_help); k++) {
		put_family(out, family_help[k].family, "counter", family_help[k].help);
		for (size_t i = 0; i < CT_ARRAY_SIZE(labelled); i++) {
			const struct labelled *l = &labelled[i];
			char labels[64];

			if (strcmp(l->family, family_help[k].family))
				continue;
			for (int m = 0; m < 2; m++) {
				const ProtobufCFieldDescriptor *f;

				if (strcmp(messages[m]->descriptor->short_name, l->message))
					continue;
				f = protobuf_c_message_descriptor_get_field_by_name(
				    messages[m]->descriptor, l->field);
				if (!f)
					continue;
				snprintf(labels, sizeof(labels), "%s=\"%s\"", l->label, l->value);
				put_sample(out, l->family, labels, field_value(messages[m], f));
			}
		}
	}
}

static void put_state(struct ct_buf *out, const struct metrics_state *s)
{
	char labels[96];

	put_family(out, "cleartap_build_info", "gauge", "the collector's version (always 1)");
	snprintf(labels, sizeof(labels), "version=\"%s\"", s->version);
	put_sample(out, "cleartap_build_info", labels, 1);
	put_family(out, "cleartap_start_time_seconds", "gauge",
		   "when the collector started, seconds since the epoch");
	put_sample(out, "cleartap_start_time_seconds", NULL, s->start_unix_s);
	put_family(out, "cleartap_ready", "gauge",
		   "1 when the rings are received and drained on time (as /readyz says)");
	put_sample(out, "cleartap_ready", NULL, s->ready);
	put_family(out, "cleartap_ring_size_bytes", "gauge", "size of each ring buffer");
	put_sample(out, "cleartap_ring_size_bytes", NULL, s->ring_size);
	put_family(out, "cleartap_ring_pending_bytes", "gauge",
		   "bytes the kernel wrote into a ring and the collector has not read yet");
	for (uint32_t i = 0; i < s->n_rings && i < METRICS_MAX_RINGS; i++) {
		snprintf(labels, sizeof(labels), "ring=\"%u\"", i);
		put_sample(out, "cleartap_ring_pending_bytes", labels, s->ring_pending[i]);
	}
	put_family(out, "cleartap_library_files", "gauge",
		   "files the loader reported on, by TLS library and attach status");
	for (int lib = 0; lib < METRICS_LIBRARIES; lib++)
		for (int st = CLEARTAP_ATTACH_ATTACHED; st < METRICS_ATTACH_STATUS; st++) {
			if (lib == CLEARTAP_LIB_UNKNOWN && !s->files[lib][st])
				continue; /* not a TLS library: said only when there is one */
			snprintf(labels, sizeof(labels), "library=\"%s\",status=\"%s\"",
				 library_names[lib], status_names[st]);
			put_sample(out, "cleartap_library_files", labels, s->files[lib][st]);
		}
	put_family(out, "cleartap_metrics_scrapes_total", "counter",
		   "requests served by this endpoint");
	put_sample(out, "cleartap_metrics_scrapes_total", NULL, s->scrapes);
}

void metrics_render(const Cleartap__V1__KernelCounters *kernel,
		    const Cleartap__V1__CollectorCounters *collector,
		    const struct metrics_state *state, struct ct_buf *out)
{
	const ProtobufCMessage *const messages[2] = {&kernel->base, &collector->base};

	put_message(out, &kernel->base, "cleartap_kernel");
	put_message(out, &collector->base, "cleartap_collector");
	put_labelled(out, messages);
	put_state(out, state);
}
