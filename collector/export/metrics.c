// SPDX-License-Identifier: Apache-2.0
#include "metrics.h"

#include <stdio.h>
#include <string.h>

#include "ct_macro.h"
#include "metric_help.h"

/* Counters of one kind told apart by a label: one family, not a metric each. */
struct member {
	const char *message, *field, *value; /* a stats field, and its label's value */
};

static const struct family {
	const char *name, *label, *help;
	struct member members[6];
} families[] = {
    {"cleartap_kernel_dropped_records_total",
     "reason",
     "records the BPF programs could not submit, by reason (ring buffer full, user memory not "
     "readable) and record kind",
     {{"KernelCounters", "drop_ring_full", "ring_full"},
      {"KernelCounters", "drop_read_fault", "read_fault"},
      {"KernelCounters", "drop_control", "session_end"},
      {"KernelCounters", "drop_conn", "connection"},
      {"KernelCounters", "drop_proc", "process"},
      {"KernelCounters", "drop_lib_open", "library_open"}}},
    {"cleartap_kernel_dropped_bytes_total",
     "reason",
     "payload bytes of the dropped data records",
     {{"KernelCounters", "drop_ring_full_bytes", "ring_full"},
      {"KernelCounters", "drop_read_fault_bytes", "read_fault"}}},
    {"cleartap_http_transactions_by_protocol_total",
     "protocol",
     "HTTP transactions exported by protocol (gRPC ones are HTTP/2 exchanges, counted there too)",
     {{"CollectorCounters", "http1_transactions", "http1"},
      {"CollectorCounters", "http2_transactions", "http2"},
      {"CollectorCounters", "grpc_transactions", "grpc"}}},
};

/* Values that go up and down; every other counter only grows. */
static const char *const gauges[] = {
    "connections", "processes", "memory_used_bytes", "memory_peak_bytes", "memory_limit_bytes",
};

static const char *const library_names[CLEARTAP_LIB__COUNT] = {
    [CLEARTAP_LIB_UNKNOWN] = "unknown",
    [CLEARTAP_LIB_OPENSSL] = "openssl",
    [CLEARTAP_LIB_GNUTLS] = "gnutls",
    [CLEARTAP_LIB_GO] = "go",
};

static const char *const status_names[CLEARTAP_ATTACH__COUNT] = {
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

/* Whether a stats field is a member of a labelled family (exported there, not on its own). */
static bool in_family(const char *message, const char *field)
{
	for (size_t k = 0; k < CT_ARRAY_SIZE(families); k++)
		for (const struct member *m = families[k].members;
		     m < families[k].members + CT_ARRAY_SIZE(families[k].members) && m->field; m++)
			if (!strcmp(m->message, message) && !strcmp(m->field, field))
				return true;
	return false;
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

		if (f->type != PROTOBUF_C_TYPE_UINT64 || in_family(message, f->name))
			continue;
		snprintf(name, sizeof(name), "%s_%s%s", prefix, f->name, gauge ? "" : "_total");
		put_family(out, name, gauge ? "gauge" : "counter", help_of(message, f->name));
		put_sample(out, name, NULL, field_value(m, f));
	}
}

/* The labelled families, each once, with the samples of both messages that belong to it. */
static void put_families(struct ct_buf *out, const ProtobufCMessage *const messages[2])
{
	for (const struct family *fam = families; fam < families + CT_ARRAY_SIZE(families); fam++) {
		put_family(out, fam->name, "counter", fam->help);
		for (const struct member *m = fam->members;
		     m < fam->members + CT_ARRAY_SIZE(fam->members) && m->field; m++) {
			const ProtobufCMessage *msg =
			    messages[strcmp(messages[0]->descriptor->short_name, m->message) != 0];
			const ProtobufCFieldDescriptor *f =
			    protobuf_c_message_descriptor_get_field_by_name(msg->descriptor,
									    m->field);
			char labels[64];

			if (!f)
				continue;
			snprintf(labels, sizeof(labels), "%s=\"%s\"", fam->label, m->value);
			put_sample(out, fam->name, labels, field_value(msg, f));
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
	for (int lib = 0; lib < CLEARTAP_LIB__COUNT; lib++)
		for (int st = CLEARTAP_ATTACH_ATTACHED; st < CLEARTAP_ATTACH__COUNT; st++) {
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
	put_families(out, messages);
	put_state(out, state);
}
