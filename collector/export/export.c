/* SPDX-License-Identifier: Apache-2.0 */
#include "export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "cleartap.pb-c.h"
#include "cleartap/sink_hello.h"
#include "container_names.h"
#include "ct_macro.h"
#include "kernel_features.h"
#include "memory_budget.h"
#include "proto_json.h"
#include "opener.h"
#include "tls_probes.h"

/* Bytes of whole records queued for a --proto unix: consumer that reads slower than records come;
 * beyond that, records are dropped whole (framing stays intact) and counted. */
#define SINK_QUEUE_MAX	   (8u << 20)
#define TEXT_PREVIEW_BYTES 4096
#define MAX_DECODED_BODY   (1 << 20) /* gzip/deflate bodies are decoded for display up to this */

struct exporter {
	FILE *out;
	enum export_format format;
	int proto_fd;
	bool proto_socket;	  /* unix: never block on it, never die of SIGPIPE from it */
	struct ct_buf sink_queue; /* whole length-prefixed records not yet all taken */
	size_t sink_queued;	  /* records in sink_queue */
	size_t sink_sent;	  /* bytes at the start of sink_queue already sent */
	uint64_t sink_dropped;	  /* records the sink did not get */
	int sink_error;		  /* errno that closed the sink, until taken */
	uint8_t sink_hello[sizeof(struct cleartap_sink_hello)];
	size_t sink_hello_got;
	bool sink_hello_done; /* read, or the consumer said something else */
	struct ct_buf buf;
	int64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	uint64_t errors;
	const struct conn_table *conns;
	struct proc_table *procs;
	bool all_processes; /* every process record, not only those other records name */
	const struct redactor *redactor;     /* query strings, form and JSON bodies; NULL: none */
	const struct capture_rules *capture; /* NULL: every exchange in full */
	uint64_t capture_suppressed;	     /* exchanges a "none" rule kept back */
	struct container_names_dir *names;
	char *kernel_degraded[16]; /* kernel_features[].degradation: static strings */
	size_t n_kernel_degraded;
};

void exporter_set_kernel_features(struct exporter *e, uint32_t present)
{
	e->n_kernel_degraded = 0;
	for (size_t i = 0; i < kernel_features_count && i < CT_ARRAY_SIZE(e->kernel_degraded); i++)
		if (!(present & kernel_features[i].feature))
			e->kernel_degraded[e->n_kernel_degraded++] =
			    (char *)kernel_features[i].degradation;
}

void exporter_set_container_names(struct exporter *e, struct container_names_dir *names)
{
	e->names = names;
}

/* m (initialised by the caller) filled with the names of container_id; NULL when none known. */
static Cleartap__V1__KubernetesNames *kubernetes_names(const struct exporter *e,
						       Cleartap__V1__KubernetesNames *m,
						       const char *container_id)
{
	const struct container_names *n = container_names_find(e->names, container_id);

	if (!n)
		return NULL;
	m->pod = (char *)n->pod;
	m->pod_namespace = (char *)n->pod_namespace;
	m->container = (char *)n->container;
	return m;
}

void exporter_set_redactor(struct exporter *e, const struct redactor *r)
{
	e->redactor = r;
}

void exporter_set_capture_rules(struct exporter *e, const struct capture_rules *rules)
{
	e->capture = rules;
}

void exporter_set_processes(struct exporter *e, struct proc_table *procs, bool all)
{
	e->procs = procs;
	e->all_processes = all;
}

/* A process a record names: its own record goes out first, once per image (unless all do). */
static void announce_process(struct exporter *e, uint32_t pid)
{
	const struct proc_info *p;

	if (!e->all_processes && e->procs && pid && proc_table_announce(e->procs, pid, &p))
		exporter_process(e, p);
}

void exporter_set_connections(struct exporter *e, const struct conn_table *conns)
{
	e->conns = conns;
}

/* Endpoints of a connection, as seen from the local process; storage outlives the messages. */
struct endpoints {
	Cleartap__V1__Endpoint local, remote;
};

static const struct conn_info *endpoints_of(const struct exporter *e, uint64_t cookie,
					    struct endpoints *ep)
{
	const struct conn_info *c = e->conns ? conn_table_get(e->conns, cookie) : NULL;

	if (!c)
		return NULL;
	cleartap__v1__endpoint__init(&ep->local);
	cleartap__v1__endpoint__init(&ep->remote);
	ep->local.address = (char *)c->local_text;
	ep->local.port = c->local_port;
	ep->remote.address = (char *)c->remote_text;
	ep->remote.port = c->remote_port;
	return c;
}

static int64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t to_unix_ns(const struct exporter *e, uint64_t monotonic_ns)
{
	/* unsigned wrap-around is defined; a bogus kernel timestamp stays bogus, not UB */
	return monotonic_ns ? monotonic_ns + (uint64_t)e->realtime_offset_ns : 0;
}

static int open_proto_sink(const char *dest, int *ret_fd, bool *ret_socket)
{
	_cleanup_close_ int fd = -1;

	*ret_socket = strncmp(dest, "unix:", 5) == 0;
	if (*ret_socket) {
		/* the send timeout bounds the blocking flush at exit; every other send is
		 * MSG_DONTWAIT */
		fd = unix_socket_connect(dest + 5, SO_SNDTIMEO, SINK_SEND_TIMEOUT_S);
		if (fd < 0)
			return fd; /* -ECONNREFUSED, -ENOENT: not listening yet (exporter_new) */
	} else {
		fd = proto_file_open(dest);
		if (fd < 0)
			return fd;
	}
	*ret_fd = ct_take_fd(&fd);
	return 0;
}

int exporter_new(FILE *out, enum export_format format, const char *proto_dest,
		 struct exporter **ret)
{
	struct exporter *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	e->out = out;
	e->format = format;
	e->proto_fd = -1;
	if (proto_dest && (r = open_proto_sink(proto_dest, &e->proto_fd, &e->proto_socket)) < 0) {
		if (!e->proto_socket || (r != -ECONNREFUSED && r != -ENOENT)) {
			free(e);
			return r;
		}
		e->sink_error = -r; /* its consumer may start later: told once, then retried */
	}
	exporter_tick(e);
	*ret = e;
	return 0;
}

int exporter_replace_proto_file(struct exporter *e, int fd)
{
	if (e->proto_socket || e->proto_fd < 0)
		return -EINVAL;
	close(e->proto_fd); /* every record went out whole: file writes are not queued */
	e->proto_fd = fd;
	return 0;
}

bool exporter_sink_down(const struct exporter *e)
{
	return e->proto_socket && e->proto_fd < 0;
}

void exporter_replace_sink(struct exporter *e, int fd)
{
	ct_closep(&e->proto_fd);
	e->proto_fd = fd;
	e->sink_hello_got = 0;
	e->sink_hello_done = false;
}

int exporter_sink_hello(struct exporter *e, uint32_t *ret_pid)
{
	const struct cleartap_sink_hello *h = (const void *)e->sink_hello;
	ssize_t n;

	if (!e->proto_socket || e->proto_fd < 0 || e->sink_hello_done)
		return -1;
	n = recv(e->proto_fd, e->sink_hello + e->sink_hello_got,
		 sizeof(e->sink_hello) - e->sink_hello_got, MSG_DONTWAIT);
	if (n <= 0)
		return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	e->sink_hello_got += (size_t)n;
	if (e->sink_hello_got < sizeof(e->sink_hello))
		return 0;
	e->sink_hello_done = true;
	if (h->magic != CLEARTAP_SINK_HELLO_MAGIC || !h->pid)
		return -1;
	*ret_pid = h->pid;
	return 1;
}

uint32_t exporter_sink_peer_pid(const struct exporter *e)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (!e->proto_socket || e->proto_fd < 0 ||
	    getsockopt(e->proto_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid == 1)
		return 0; /* pid 1: a socket systemd made; its exporter says who it is (hello) */
	return (uint32_t)cred.pid;
}

/* Bytes of the queued record at p, its varint length prefix included. */
static size_t queued_record_size(const uint8_t *p)
{
	uint64_t len = 0;
	size_t i = 0;

	do
		len |= (uint64_t)(p[i] & 0x7f) << (7 * i);
	while (p[i++] & 0x80);
	return i + (size_t)len;
}

/* The consumer went away (or failed): what it did not get is dropped, the collector goes on. */
static void sink_close(struct exporter *e, int error)
{
	e->sink_dropped += e->sink_queued;
	e->sink_queued = 0;
	ct_buf_reset(&e->sink_queue);
	e->sink_sent = 0;
	e->sink_error = error;
	ct_closep(&e->proto_fd);
	e->proto_fd = -1;
}

/* Send what the socket takes now (or, when blocking, within SO_SNDTIMEO). */
static void sink_flush(struct exporter *e, bool blocking)
{
	uint8_t *q = e->sink_queue.data;
	size_t done = 0;

	while (e->sink_sent < e->sink_queue.len) {
		ssize_t w = send(e->proto_fd, q + e->sink_sent, e->sink_queue.len - e->sink_sent,
				 MSG_NOSIGNAL | (blocking ? 0 : MSG_DONTWAIT));

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0) {
			sink_close(e, w < 0 ? errno : EPIPE);
			return;
		}
		e->sink_sent += (size_t)w;
	}
	/* whole records sent leave the queue; a partly sent one stays, with its progress */
	while (done < e->sink_sent) {
		size_t size = queued_record_size(q + done);

		if (done + size > e->sink_sent)
			break;
		done += size;
		e->sink_queued--;
	}
	memmove(q, q + done, e->sink_queue.len - done);
	e->sink_queue.len -= done;
	e->sink_sent -= done;
}

void exporter_drain_sink(struct exporter *e)
{
	if (e->proto_fd >= 0 && e->proto_socket && e->sink_queue.len)
		sink_flush(e, true);
}

void exporter_free(struct exporter *e)
{
	if (!e)
		return;
	fflush(e->out);
	if (e->proto_fd >= 0 && e->proto_socket && e->sink_queue.len)
		sink_flush(e, true);
	ct_closep(&e->proto_fd);
	ct_buf_free(&e->buf);
	ct_buf_free(&e->sink_queue);
	free(e);
}

void exporter_tick(struct exporter *e)
{
	e->realtime_offset_ns = now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC);
	if (fflush(e->out) != 0)
		e->errors++;
	if (e->proto_fd >= 0 && e->proto_socket && e->sink_queue.len)
		sink_flush(e, false);
}

int exporter_take_sink_error(struct exporter *e)
{
	int error = e->sink_error;

	e->sink_error = 0;
	return error;
}

uint64_t exporter_errors(const struct exporter *e)
{
	return e->errors;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void write_proto(struct exporter *e, const Cleartap__V1__Record *record)
{
	size_t len = protobuf_c_message_get_packed_size(&record->base);
	uint8_t *packed;

	ct_buf_reset(&e->buf);
	for (uint64_t v = len;; v >>= 7) { /* varint length prefix */
		ct_buf_putc(&e->buf, (char)((v & 0x7f) | (v >> 7 ? 0x80 : 0)));
		if (!(v >> 7))
			break;
	}
	packed = ct_buf_extend(&e->buf, len);
	if (packed)
		protobuf_c_message_pack(&record->base, packed);
	if (e->buf.failed) {
		e->errors++;
		return;
	}
	if (!e->proto_socket) {
		if (write_all(e->proto_fd, e->buf.data, e->buf.len) < 0)
			e->errors++;
		return;
	}
	if (e->sink_queue.len + e->buf.len > SINK_QUEUE_MAX) {
		e->sink_dropped++; /* the consumer is too slow: this record, whole */
		return;
	}
	ct_buf_put(&e->sink_queue, e->buf.data, e->buf.len);
	if (e->sink_queue.failed) {
		sink_close(e, ENOMEM);
		return;
	}
	e->sink_queued++;
	sink_flush(e, false);
}

/* e->buf to stdout; a short or failed write is counted, never silent. */
static void write_out(struct exporter *e)
{
	if (e->buf.failed || fwrite(e->buf.data, 1, e->buf.len, e->out) != e->buf.len)
		e->errors++;
}

static void write_record(struct exporter *e, const Cleartap__V1__Record *record)
{
	if (e->proto_fd >= 0)
		write_proto(e, record);
	else if (e->proto_socket)
		e->sink_dropped++; /* the sink was closed: its consumer went away */
	if (e->format != EXPORT_JSON)
		return;
	ct_buf_reset(&e->buf);
	proto_json_write(&e->buf, &record->base);
	ct_buf_putc(&e->buf, '\n');
	write_out(e);
}

/*
 * comm_buf holds the NUL-terminated command name the message points to; what the kernel told
 * of the process at exec (executable, container, uid) is added when known.
 */
static void process_ref(struct exporter *e, Cleartap__V1__ProcessRef *ref,
			Cleartap__V1__KubernetesNames *names, char comm_buf[CLEARTAP_COMM_LEN + 1],
			uint32_t pid, uint32_t tid, const char *comm)
{
	const struct proc_info *p;

	announce_process(e, pid);
	p = e->procs ? proc_table_get(e->procs, pid) : NULL;
	memset(comm_buf, 0, CLEARTAP_COMM_LEN + 1);
	if (comm)
		memcpy(comm_buf, comm, CLEARTAP_COMM_LEN);
	ref->pid = pid;
	ref->tid = tid;
	ref->comm = comm_buf;
	if (p && p->exe[0]) {
		ref->exe = (char *)p->exe;
		ref->container_id = (char *)p->container_id;
		ref->uid = p->uid;
		ref->kubernetes = kubernetes_names(e, names, p->container_id);
	}
}

static const char *fd_source(uint8_t flags)
{
	if (flags & CLEARTAP_DATA_FD_FROM_SYSCALL)
		return "syscall";
	if (flags & CLEARTAP_DATA_FD_FROM_CACHE)
		return "session";
	if (flags & CLEARTAP_DATA_FD_FROM_BIO)
		return "memory-bio";
	return "";
}

static void write_text_segment(struct exporter *e, const struct reasm_segment *s)
{
	uint64_t unix_ns = to_unix_ns(e, s->time_ns);
	time_t secs = (time_t)(unix_ns / 1000000000);
	size_t shown = s->len < TEXT_PREVIEW_BYTES ? s->len : TEXT_PREVIEW_BYTES;
	struct tm tm;
	char when[32];

	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	ct_buf_reset(&e->buf);
	ct_buf_printf(&e->buf, "%s.%06u %s[%u/%u] fd %d %s %s %zu bytes (session %#llx @%llu)",
		      when, (unsigned)(unix_ns % 1000000000 / 1000), s->comm, s->tgid, s->tid,
		      s->fd, tls_probe_function_name(s->func),
		      s->direction == CLEARTAP_DIR_WRITE ? ">>" : "<<", s->len,
		      (unsigned long long)s->session, (unsigned long long)s->stream_offset);
	if (s->gap_before)
		ct_buf_printf(&e->buf, " [%llu bytes missing before]",
			      (unsigned long long)s->gap_before);
	if (s->truncated)
		ct_buf_printf(&e->buf, " [%llu bytes truncated after]",
			      (unsigned long long)s->truncated);
	ct_buf_puts(&e->buf, "\n  ");
	for (size_t i = 0; i < shown; i++) {
		uint8_t c = s->data[i];

		if (c == '\n')
			ct_buf_puts(&e->buf, i + 1 < shown ? "\\n\n  " : "\\n");
		else if (c == '\r')
			ct_buf_puts(&e->buf, "\\r");
		else if (c == '\\')
			ct_buf_puts(&e->buf, "\\\\");
		else if (c >= 0x20 && c < 0x7f)
			ct_buf_putc(&e->buf, (char)c);
		else
			ct_buf_printf(&e->buf, "\\x%02x", c);
	}
	if (shown < s->len)
		ct_buf_printf(&e->buf, "... (%zu more bytes)", s->len - shown);
	ct_buf_putc(&e->buf, '\n');
	write_out(e);
}

void exporter_segment(struct exporter *e, const struct reasm_segment *s)
{
	Cleartap__V1__Record record = CLEARTAP__V1__RECORD__INIT;
	Cleartap__V1__TlsData data = CLEARTAP__V1__TLS_DATA__INIT;
	struct endpoints ep;
	Cleartap__V1__ProcessRef process = CLEARTAP__V1__PROCESS_REF__INIT;
	Cleartap__V1__KubernetesNames names = CLEARTAP__V1__KUBERNETES_NAMES__INIT;
	char comm[CLEARTAP_COMM_LEN + 1];

	process_ref(e, &process, &names, comm, s->tgid, s->tid, s->comm);
	data.time_unix_nano = to_unix_ns(e, s->time_ns);
	data.call_start_unix_nano = to_unix_ns(e, s->call_start_ns);
	data.process = &process;
	data.session = s->session;
	data.fd = s->fd;
	data.direction = s->direction == CLEARTAP_DIR_WRITE
			     ? CLEARTAP__V1__DIRECTION__DIRECTION_WRITE
			     : CLEARTAP__V1__DIRECTION__DIRECTION_READ;
	data.function = (char *)tls_probe_function_name(s->func);
	data.stream_offset = s->stream_offset;
	data.data.data = (uint8_t *)s->data;
	data.data.len = s->len;
	data.call_length = s->call_len;
	data.call_offset = s->call_offset;
	data.gap_before_bytes = s->gap_before;
	data.truncated_bytes = s->truncated;
	data.fd_source = (char *)fd_source(s->flags);
	data.connection_id = s->conn_cookie;
	if (endpoints_of(e, s->conn_cookie, &ep)) {
		data.local = &ep.local;
		data.remote = &ep.remote;
	}
	record.kind_case = CLEARTAP__V1__RECORD__KIND_TLS_DATA;
	record.tls_data = &data;
	write_record(e, &record);
	if (e->format == EXPORT_TEXT)
		write_text_segment(e, s);
}

void exporter_session_end(struct exporter *e, const struct reasm_session_end *end)
{
	Cleartap__V1__Record record = CLEARTAP__V1__RECORD__INIT;
	Cleartap__V1__TlsSessionEnd msg = CLEARTAP__V1__TLS_SESSION_END__INIT;
	Cleartap__V1__ProcessRef process = CLEARTAP__V1__PROCESS_REF__INIT;
	Cleartap__V1__KubernetesNames names = CLEARTAP__V1__KUBERNETES_NAMES__INIT;
	char comm[CLEARTAP_COMM_LEN + 1];

	process_ref(e, &process, &names, comm, end->tgid, end->tid, NULL);
	msg.time_unix_nano = to_unix_ns(e, end->time_ns);
	msg.process = &process;
	msg.session = end->session;
	msg.bytes_written = end->bytes_written;
	msg.bytes_read = end->bytes_read;
	record.kind_case = CLEARTAP__V1__RECORD__KIND_TLS_SESSION_END;
	record.tls_session_end = &msg;
	write_record(e, &record);
}

void exporter_fill_counters(const struct exporter *e, const uint64_t k[CLEARTAP_CNT__MAX],
			    const struct reasm_counters *reasm,
			    const struct http_session_counters *http,
			    const struct collector_counters *c,
			    Cleartap__V1__KernelCounters *ret_kernel,
			    Cleartap__V1__CollectorCounters *ret_collector)
{
	Cleartap__V1__KernelCounters kernel = CLEARTAP__V1__KERNEL_COUNTERS__INIT;
	Cleartap__V1__CollectorCounters collector = CLEARTAP__V1__COLLECTOR_COUNTERS__INIT;
	struct mem_budget_stats memory;

	kernel.calls = k[CLEARTAP_CNT_CALLS];
	kernel.call_bytes = k[CLEARTAP_CNT_CALL_BYTES];
	kernel.chunks = k[CLEARTAP_CNT_CHUNKS];
	kernel.chunk_bytes = k[CLEARTAP_CNT_CHUNK_BYTES];
	kernel.drop_ring_full = k[CLEARTAP_CNT_DROP_RING_FULL];
	kernel.drop_ring_full_bytes = k[CLEARTAP_CNT_DROP_RING_FULL_BYTES];
	kernel.drop_read_fault = k[CLEARTAP_CNT_DROP_READ_FAULT];
	kernel.drop_read_fault_bytes = k[CLEARTAP_CNT_DROP_READ_FAULT_BYTES];
	kernel.truncated_calls = k[CLEARTAP_CNT_TRUNCATED_CALLS];
	kernel.truncated_bytes = k[CLEARTAP_CNT_TRUNCATED_BYTES];
	kernel.return_without_entry = k[CLEARTAP_CNT_RETURN_WITHOUT_ENTRY];
	kernel.call_state_full = k[CLEARTAP_CNT_CALL_STATE_FULL];
	kernel.fd_unknown = k[CLEARTAP_CNT_FD_UNKNOWN];
	kernel.drop_control = k[CLEARTAP_CNT_DROP_CONTROL];
	kernel.no_ring = k[CLEARTAP_CNT_NO_RING];
	kernel.drop_conn = k[CLEARTAP_CNT_DROP_CONN];
	kernel.drop_proc = k[CLEARTAP_CNT_DROP_PROC];
	kernel.drop_lib_open = k[CLEARTAP_CNT_DROP_LIB_OPEN];
	kernel.plain_calls = k[CLEARTAP_CNT_PLAIN_CALLS];
	kernel.plain_bytes = k[CLEARTAP_CNT_PLAIN_BYTES];
	kernel.hello_bytes = k[CLEARTAP_CNT_HELLO_BYTES];
	kernel.untracked_calls = k[CLEARTAP_CNT_UNTRACKED_CALLS];
	kernel.untracked_bytes = k[CLEARTAP_CNT_UNTRACKED_BYTES];
	kernel.uncopied_bytes = k[CLEARTAP_CNT_UNCOPIED_BYTES];
	collector.records = c->records;
	collector.record_bytes = c->record_bytes;
	collector.malformed_records = c->malformed_records + reasm->malformed_chunks;
	collector.segments = reasm->segments;
	collector.segment_bytes = reasm->segment_bytes;
	collector.gap_bytes = reasm->gap_bytes;
	collector.partial_calls = reasm->partial_calls;
	collector.evicted_calls = reasm->evicted_calls;
	collector.duplicate_chunks = reasm->duplicate_chunks;
	collector.sessions_ended = reasm->sessions_ended;
	collector.output_errors = c->output_errors + e->errors;
	collector.http_transactions = http->transactions;
	collector.http_malformed = http->malformed;
	collector.http_desynchronised = http->desynchronised;
	collector.opaque_sessions = http->opaque_sessions;
	collector.http_over_budget = http->over_budget;
	collector.connections = c->connections;
	collector.processes = c->processes;
	collector.probed_files = c->probed_files;
	collector.unprobed_files = c->unprobed_files;
	collector.malformed_hellos = c->malformed_hellos;
	collector.plaintext_missed = c->plaintext_missed;
	collector.sink_dropped_records = e->sink_dropped;
	mem_budget_get(&memory);
	collector.memory_used_bytes = memory.used;
	collector.memory_peak_bytes = memory.peak;
	collector.memory_limit_bytes = memory.limit;
	collector.memory_refused = memory.refused;
	collector.refused_chunks = reasm->refused_chunks;
	collector.http_over_memory = http->over_memory;
	collector.refused_records = c->refused_records;
	collector.idle_sessions = reasm->idle_sessions;
	collector.capture_suppressed = e->capture_suppressed;
	collector.http1_transactions = http->by_protocol[HTTP_PROTOCOL_HTTP1];
	collector.http2_transactions = http->by_protocol[HTTP_PROTOCOL_HTTP2];
	collector.grpc_transactions = http->by_protocol[HTTP_PROTOCOL_GRPC];
	*ret_kernel = kernel;
	*ret_collector = collector;
}

void exporter_stats(struct exporter *e, const uint64_t k[CLEARTAP_CNT__MAX],
		    const struct reasm_counters *reasm, const struct http_session_counters *http,
		    const struct collector_counters *c, bool final)
{
	Cleartap__V1__Record record = CLEARTAP__V1__RECORD__INIT;
	Cleartap__V1__Stats stats = CLEARTAP__V1__STATS__INIT;
	Cleartap__V1__KernelCounters kernel;
	Cleartap__V1__CollectorCounters collector;

	exporter_fill_counters(e, k, reasm, http, c, &kernel, &collector);
	stats.time_unix_nano = (uint64_t)now_ns(CLOCK_REALTIME);
	stats.kernel = &kernel;
	stats.collector = &collector;
	stats.final = final;
	stats.schema_version = CLEARTAP_EXPORT_SCHEMA;
	stats.n_kernel_degraded = e->n_kernel_degraded;
	stats.kernel_degraded = e->kernel_degraded;
	record.kind_case = CLEARTAP__V1__RECORD__KIND_STATS;
	record.stats = &stats;
	if (e->format == EXPORT_TEXT) {
		ct_buf_reset(&e->buf);
		ct_buf_printf(&e->buf,
			      "-- %sstats: %llu calls, %llu bytes; exported %llu bytes; dropped "
			      "%llu (ring full) + %llu (read fault); truncated %llu; gaps %llu; "
			      "%llu HTTP transactions; memory %llu of %llu KiB\n",
			      final ? "final " : "", (unsigned long long)kernel.calls,
			      (unsigned long long)kernel.call_bytes,
			      (unsigned long long)collector.segment_bytes,
			      (unsigned long long)kernel.drop_ring_full_bytes,
			      (unsigned long long)kernel.drop_read_fault_bytes,
			      (unsigned long long)kernel.truncated_bytes,
			      (unsigned long long)collector.gap_bytes,
			      (unsigned long long)collector.http_transactions,
			      (unsigned long long)collector.memory_used_bytes >> 10,
			      (unsigned long long)collector.memory_limit_bytes >> 10);
		write_out(e);
	}
	write_record(e, &record);
}

/* ---- HTTP transactions ---- */

static Cleartap__V1__Header **headers_message(const struct http_fields *f,
					      Cleartap__V1__Header *storage)
{
	Cleartap__V1__Header **list = calloc(f->n ? f->n : 1, sizeof(*list));

	if (!list)
		return NULL;
	for (size_t i = 0; i < f->n; i++) {
		cleartap__v1__header__init(&storage[i]);
		storage[i].name = f->items[i].name;
		/* values are NUL-terminated copies (http_txn.c): text goes out as it is */
		if (proto_json_is_text(f->items[i].value, f->items[i].value_len, false)) {
			storage[i].value = (char *)f->items[i].value;
		} else {
			storage[i].value_bytes.data = f->items[i].value;
			storage[i].value_bytes.len = f->items[i].value_len;
		}
		list[i] = &storage[i];
	}
	return list;
}

/*
 * A body as text (a NUL-terminated copy in *ret_text, freed by the caller) when it is text,
 * else as bytes.
 */
static void body_message(const uint8_t *data, size_t len, ProtobufCBinaryData *ret_bytes,
			 char **ret_text)
{
	*ret_text = NULL;
	if (len && proto_json_is_text(data, len, true) && (*ret_text = malloc(len + 1))) {
		memcpy(*ret_text, data, len);
		(*ret_text)[len] = '\0';
		return;
	}
	ret_bytes->data = (uint8_t *)data;
	ret_bytes->len = len;
}

/* The path with redacted query parameters (a NUL-terminated copy in out when any was). */
static const char *redact_path(const struct exporter *e, const char *path, struct ct_buf *out)
{
	/* most paths have no query: nothing to copy */
	if (!e->redactor || !e->redactor->enabled || !path || !strchr(path, '?') ||
	    !redactor_query(e->redactor, (const uint8_t *)path, strlen(path), false, out))
		return path;
	ct_buf_putc(out, '\0');
	return out->failed ? "[redacted]" : (const char *)out->data;
}

/* A form or JSON body with redacted fields replaced (in out when any was); *len updated. */
static const uint8_t *redact_body(const struct exporter *e, const char *type, const uint8_t *data,
				  size_t *len, struct ct_buf *out)
{
	bool replaced = false;

	if (!e->redactor || !e->redactor->enabled || !*len)
		return data;
	if (strcasestr(type, "json"))
		replaced = redactor_json(e->redactor, data, *len, out);
	else if (!strncasecmp(type, "application/x-www-form-urlencoded", 33))
		replaced = redactor_query(e->redactor, data, *len, true, out);
	if (!replaced)
		return data;
	*len = out->failed ? 0 : out->len; /* never the unredacted bytes */
	return out->data;
}

/* Decode a complete gzip or deflate body for display. Returns malloc'd bytes or NULL. */
static uint8_t *decode_body(const struct http_body *b, const char *coding, size_t *ret_len)
{
	bool gzip = strcasecmp(coding, "gzip") == 0 || strcasecmp(coding, "x-gzip") == 0;
	z_stream z = {0};
	uint8_t *out;
	int r;

	if ((!gzip && strcasecmp(coding, "deflate")) || b->lost || b->kept.len != b->size ||
	    !b->kept.len)
		return NULL;
	out = malloc(MAX_DECODED_BODY);
	if (!out)
		return NULL;
	/* gzip; "deflate" is zlib-wrapped in practice (RFC 9110 8.4.1.2), raw as a fallback */
	for (int attempt = 0; attempt < 2; attempt++) {
		int window = gzip ? 16 + MAX_WBITS : attempt == 0 ? MAX_WBITS : -MAX_WBITS;

		memset(&z, 0, sizeof(z));
		if (inflateInit2(&z, window) != Z_OK)
			break;
		z.next_in = b->kept.data;
		z.avail_in = (uInt)b->kept.len;
		z.next_out = out;
		z.avail_out = MAX_DECODED_BODY;
		r = inflate(&z, Z_FINISH);
		inflateEnd(&z);
		if (r == Z_STREAM_END) {
			*ret_len = MAX_DECODED_BODY - z.avail_out;
			return out;
		}
		if (gzip)
			break;
	}
	free(out);
	return NULL;
}

static const char *header_value(const struct http_fields *f, const char *name)
{
	const struct http_field *h = http_fields_get(f, name);

	return h ? (const char *)h->value : "";
}

static void write_text_transaction(struct exporter *e, const struct http_txn *t, const char *path,
				   uint64_t response_bytes)
{
	uint64_t start =
	    to_unix_ns(e, t->request_start_ns ? t->request_start_ns : t->response_first_byte_ns);
	time_t secs = (time_t)(start / 1000000000);
	struct tm tm;
	char when[32];

	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	ct_buf_reset(&e->buf);
	ct_buf_printf(&e->buf, "%s.%03u %s[%u] %s %s %s%s", when,
		      (unsigned)(start % 1000000000 / 1000000), t->comm, t->pid,
		      t->server_side ? "served" : "sent", t->method ? t->method : "?",
		      t->authority ? t->authority : "", path ? path : "");
	if (t->status)
		ct_buf_printf(&e->buf, " -> %d", t->status);
	else
		ct_buf_puts(&e->buf, " -> (no response)");
	ct_buf_printf(&e->buf, ", %s, req %llu B, resp %llu B", t->protocol,
		      (unsigned long long)t->request_body.size, (unsigned long long)response_bytes);
	if (t->request_start_ns && t->response_end_ns >= t->request_start_ns)
		ct_buf_printf(&e->buf, ", %.1f ms",
			      (double)(t->response_end_ns - t->request_start_ns) / 1e6);
	if (t->grpc.present)
		ct_buf_printf(
		    &e->buf, ", grpc %s/%s status %d", t->grpc.service ? t->grpc.service : "",
		    t->grpc.method ? t->grpc.method : "", t->grpc.has_status ? t->grpc.status : -1);
	if (e->conns && conn_table_get(e->conns, t->conn_cookie)) {
		const struct conn_info *c = conn_table_get(e->conns, t->conn_cookie);
		char local[80], remote[80];

		conn_format_endpoint(c->family, c->local_addr, c->local_port, local, sizeof(local));
		conn_format_endpoint(c->family, c->remote_addr, c->remote_port, remote,
				     sizeof(remote));
		ct_buf_printf(&e->buf, ", %s %s %s", local, t->server_side ? "<-" : "->", remote);
	}
	if (t->error[0])
		ct_buf_printf(&e->buf, " [%s]", t->error);
	ct_buf_putc(&e->buf, '\n');
	write_out(e);
}

/* The capture rules' level for t, whose process p describes. */
static enum capture_level transaction_level(const struct exporter *e, const struct http_txn *t,
					    const Cleartap__V1__ProcessRef *p)
{
	struct capture_subject s = {
	    .comm = p->comm,
	    .exe = p->exe,
	    .container = p->container_id,
	    .authority = t->authority,
	    .path = t->path,
	    .status = t->status > 0 ? t->status : 0,
	};

	return e->capture ? capture_level_of(e->capture, &s) : CAPTURE_FULL;
}

void exporter_transaction(struct exporter *e, const struct http_txn *t)
{
	Cleartap__V1__Record record = CLEARTAP__V1__RECORD__INIT;
	Cleartap__V1__HttpTransaction m = CLEARTAP__V1__HTTP_TRANSACTION__INIT;
	Cleartap__V1__ProcessRef process = CLEARTAP__V1__PROCESS_REF__INIT;
	Cleartap__V1__KubernetesNames names = CLEARTAP__V1__KUBERNETES_NAMES__INIT;
	Cleartap__V1__GrpcCall grpc = CLEARTAP__V1__GRPC_CALL__INIT;
	Cleartap__V1__GrpcStatus grpc_status = CLEARTAP__V1__GRPC_STATUS__INIT;
	struct endpoints ep;
	Cleartap__V1__Header *req_storage, *resp_storage;
	const char *coding;
	char comm[CLEARTAP_COMM_LEN + 1];
	size_t decoded_len = 0;
	uint8_t *decoded = NULL;
	char *request_text = NULL, *response_text = NULL;
	struct ct_buf redacted_path = {}, redacted_request = {}, redacted_response = {};
	const uint8_t *request_data, *response_data;
	size_t request_len, response_len;
	enum capture_level level;

	process_ref(e, &process, &names, comm, t->pid, t->tid, t->comm);
	level = transaction_level(e, t, &process);
	if (level == CAPTURE_NONE) {
		e->capture_suppressed++;
		return;
	}
	/* a summary carries no header, no body: nothing of them is copied or decoded */
	req_storage =
	    calloc(level > CAPTURE_SUMMARY ? t->request_headers.n + 1 : 1, sizeof(*req_storage));
	resp_storage =
	    calloc(level > CAPTURE_SUMMARY ? t->response_headers.n + 1 : 1, sizeof(*resp_storage));
	coding = header_value(&t->response_headers, "content-encoding");
	if (coding[0] && level == CAPTURE_FULL)
		decoded = decode_body(&t->response_body, coding, &decoded_len);
	if (level < CAPTURE_FULL)
		m.capture_level = (char *)capture_level_name(level);
	m.request_start_unix_nano = to_unix_ns(e, t->request_start_ns);
	m.response_first_byte_unix_nano = to_unix_ns(e, t->response_first_byte_ns);
	m.response_end_unix_nano = to_unix_ns(e, t->response_end_ns);
	m.process = &process;
	m.protocol = (char *)t->protocol;
	m.method = t->method;
	m.scheme = t->scheme;
	m.authority = t->authority;
	m.path = (char *)redact_path(e, t->path, &redacted_path);
	m.status = t->status > 0 ? (uint32_t)t->status : 0;
	if (level > CAPTURE_SUMMARY) {
		m.request_headers =
		    req_storage ? headers_message(&t->request_headers, req_storage) : NULL;
		m.n_request_headers = m.request_headers ? t->request_headers.n : 0;
		m.response_headers =
		    resp_storage ? headers_message(&t->response_headers, resp_storage) : NULL;
		m.n_response_headers = m.response_headers ? t->response_headers.n : 0;
		m.request_content_type = (char *)header_value(&t->request_headers, "content-type");
		m.response_content_type =
		    (char *)header_value(&t->response_headers, "content-type");
	}
	m.request_body_size = t->request_body.size;
	m.response_body_size = t->response_body.size;
	if (level == CAPTURE_FULL) {
		request_len = t->request_body.kept.len;
		request_data = redact_body(e, m.request_content_type, t->request_body.kept.data,
					   &request_len, &redacted_request);
		body_message(request_data, request_len, &m.request_body, &request_text);
		m.request_body_truncated = t->request_body.kept.len < t->request_body.size;
		m.response_body_truncated = t->response_body.kept.len < t->response_body.size;
		if (decoded)
			m.response_body_decoding = (char *)coding;
		response_len = decoded ? decoded_len : t->response_body.kept.len;
		response_data = redact_body(e, m.response_content_type,
					    decoded ? decoded : t->response_body.kept.data,
					    &response_len, &redacted_response);
		body_message(response_data, response_len, &m.response_body, &response_text);
	}
	if (request_text)
		m.request_body_text = request_text;
	if (response_text)
		m.response_body_text = response_text;
	m.error = (char *)t->error;
	m.session = t->session;
	m.gap_bytes = t->gap_bytes;
	m.resynchronised = t->resynchronised;
	m.stream_id = t->stream_id;
	m.server_side = t->server_side;
	m.connection_id = t->conn_cookie;
	if (endpoints_of(e, t->conn_cookie, &ep)) {
		m.local = &ep.local;
		m.remote = &ep.remote;
	}
	if (t->grpc.present) {
		grpc.service = t->grpc.service;
		grpc.method = t->grpc.method;
		if (t->grpc.has_status) {
			grpc_status.code = t->grpc.status;
			grpc_status.message = t->grpc.message;
			grpc.status = &grpc_status;
		}
		grpc.request_messages = t->grpc.request_messages;
		grpc.response_messages = t->grpc.response_messages;
		grpc.request_message_bytes = t->grpc.request_message_bytes;
		grpc.response_message_bytes = t->grpc.response_message_bytes;
		m.grpc = &grpc;
	}
	record.kind_case = CLEARTAP__V1__RECORD__KIND_HTTP;
	record.http = &m;
	if (!req_storage || !resp_storage)
		e->errors++;
	write_record(e, &record);
	if (e->format == EXPORT_TEXT)
		write_text_transaction(e, t, m.path, t->response_body.size);
	free(m.request_headers);
	free(m.response_headers);
	free(req_storage);
	free(resp_storage);
	free(decoded);
	free(request_text);
	free(response_text);
	ct_buf_free(&redacted_path);
	ct_buf_free(&redacted_request);
	ct_buf_free(&redacted_response);
}

/* A TLS version by name, or "0x0305" for one without. buf: at least 8 bytes. */
static char *version_text(uint16_t v, char *buf, size_t size)
{
	const char *name = tls_version_name(v);

	if (name)
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "0x%04x", v);
	return buf;
}

/* What the hellos said; the strings point into tls and names. */
static void connection_tls(Cleartap__V1__Connection *m, const struct conn_tls *tls,
			   char names[TLS_HELLO_MAX_VERSIONS + 1][8],
			   char *versions[TLS_HELLO_MAX_VERSIONS], char *alpn[TLS_HELLO_MAX_ALPN])
{
	m->tls = true;
	m->tls_malformed = tls->malformed;
	if (tls->have_client) {
		const struct tls_hello *h = &tls->client;

		m->server_name = (char *)h->server_name;
		for (size_t i = 0; i < h->n_versions; i++)
			versions[i] = version_text(h->versions[i], names[i], sizeof(names[i]));
		m->offered_tls_versions = versions;
		m->n_offered_tls_versions = h->n_versions;
		for (size_t i = 0; i < h->n_alpn; i++)
			alpn[i] = (char *)h->alpn[i];
		m->offered_alpn = alpn;
		m->n_offered_alpn = h->n_alpn;
	}
	if (tls->have_server) {
		const struct tls_hello *h = &tls->server;

		m->tls_version =
		    version_text(h->versions[0], names[TLS_HELLO_MAX_VERSIONS], sizeof(names[0]));
		m->cipher_suite = h->cipher_suite;
		if (h->n_alpn)
			m->alpn = (char *)h->alpn[0];
	}
}

void exporter_connection(struct exporter *e, const struct conn_info *c, bool handshake)
{
	Cleartap__V1__Record record = CLEARTAP__V1__RECORD__INIT;
	Cleartap__V1__Connection m = CLEARTAP__V1__CONNECTION__INIT;
	char names[TLS_HELLO_MAX_VERSIONS + 1][8];
	char *versions[TLS_HELLO_MAX_VERSIONS], *alpn[TLS_HELLO_MAX_ALPN];
	struct endpoints ep;

	m.time_unix_nano = to_unix_ns(e, handshake   ? c->handshake_ns
					 : c->closed ? c->close_ns
						     : c->open_ns);
	m.id = c->cookie;
	m.pid = c->pid;
	announce_process(e, c->pid);
	m.role = c->role == CLEARTAP_ROLE_CLIENT ? CLEARTAP__V1__CONNECTION__ROLE__ROLE_CLIENT
		 : c->role == CLEARTAP_ROLE_SERVER
		     ? CLEARTAP__V1__CONNECTION__ROLE__ROLE_SERVER
		     : CLEARTAP__V1__CONNECTION__ROLE__ROLE_UNSPECIFIED;
	m.closed = c->closed;
	m.bytes_sent = c->bytes_sent;
	m.bytes_received = c->bytes_received;
	m.handshake = handshake;
	m.plaintext = c->plain;
	m.plaintext_missed = (char *)(c->plaintext_missed ? c->plaintext_missed : "");
	if (c->tls)
		connection_tls(&m, c->tls, names, versions, alpn);
	if (endpoints_of(e, c->cookie, &ep)) {
		m.local = &ep.local;
		m.remote = &ep.remote;
	}
	record.kind_case = CLEARTAP__V1__RECORD__KIND_CONNECTION;
	record.connection = &m;
	/* JSON and protobuf only: a line per TCP connection would drown the text view */
	write_record(e, &record);
}

void exporter_process(struct exporter *e, const struct proc_info *p)
{
	Cleartap__V1__Record record = CLEARTAP__V1__RECORD__INIT;
	Cleartap__V1__Process m = CLEARTAP__V1__PROCESS__INIT;
	Cleartap__V1__KubernetesNames names = CLEARTAP__V1__KUBERNETES_NAMES__INIT;
	char *argv[CLEARTAP_ARGS_LEN / 2 + 1];
	size_t n = 0;

	if (!e->all_processes && !p->announced)
		return; /* said when a record first names it */

	m.time_unix_nano = to_unix_ns(e, p->exited ? p->exit_ns : p->start_ns);
	m.pid = p->pid;
	m.ppid = p->ppid;
	m.uid = p->uid;
	m.snapshot = p->snapshot;
	m.comm = (char *)p->comm;
	m.exe = (char *)p->exe;
	for (size_t at = 0; at < p->args_len && n < CT_ARRAY_SIZE(argv);) {
		argv[n++] = (char *)p->args + at; /* NUL-separated; args[args_len] is NUL */
		at += strlen(p->args + at) + 1;
	}
	m.argv = argv;
	m.n_argv = n;
	m.argv_truncated = p->args_truncated;
	m.start_unix_nano = to_unix_ns(e, p->start_ns);
	m.cgroup_id = p->cgroup_id;
	m.container_id = (char *)p->container_id;
	m.kubernetes = kubernetes_names(e, &names, p->container_id);
	m.exited = p->exited;
	if (p->exited) {
		m.exit_code = (p->exit_code >> 8) & 0xff;
		m.exit_signal = p->exit_code & 0x7f;
	}
	record.kind_case = CLEARTAP__V1__RECORD__KIND_PROCESS;
	record.process = &m;
	write_record(e, &record); /* JSON and protobuf only, like connections */
}

struct site_text {
	char entry[sizeof(((struct cleartap_handoff_site *)0)->entry_insn) + 1];
	char exit[sizeof(((struct cleartap_handoff_site *)0)->exit_insn) + 1];
	char reason[sizeof(((struct cleartap_handoff_site *)0)->reason) + 1];
	char description[256];
};

void exporter_attachment(struct exporter *e, const struct cleartap_handoff_attachment *a,
			 uint32_t pid, const struct proc_info *proc)
{
	static const char *const libraries[] = {"", "openssl", "gnutls", "go"};
	Cleartap__V1__Record record = CLEARTAP__V1__RECORD__INIT;
	Cleartap__V1__Attachment m = CLEARTAP__V1__ATTACHMENT__INIT;
	Cleartap__V1__KubernetesNames names = CLEARTAP__V1__KUBERNETES_NAMES__INIT;
	Cleartap__V1__ProbeSite sites[CLEARTAP_HANDOFF_MAX_SITES];
	Cleartap__V1__ProbeSite *site_ptrs[CLEARTAP_HANDOFF_MAX_SITES];
	struct site_text text[CLEARTAP_HANDOFF_MAX_SITES];
	char path[sizeof(a->path) + 1], detail[sizeof(a->detail) + 1];
	size_t n_sites =
	    a->n_sites < CLEARTAP_HANDOFF_MAX_SITES ? a->n_sites : CLEARTAP_HANDOFF_MAX_SITES;

	ct_copy_field(path, sizeof(path), a->path, sizeof(a->path));
	ct_copy_field(detail, sizeof(detail), a->detail, sizeof(a->detail));
	m.path = path;
	m.library = (char *)(a->library < CT_ARRAY_SIZE(libraries) ? libraries[a->library] : "");
	m.status = a->status <= CLEARTAP_ATTACH_REFUSED
		       ? (Cleartap__V1__Attachment__Status)a->status
		       : CLEARTAP__V1__ATTACHMENT__STATUS__STATUS_UNSPECIFIED;
	m.functions = a->n_functions;
	m.detail = detail;
	m.device = a->dev;
	m.inode = a->ino;
	m.pid = pid;
	announce_process(e, pid);
	m.container_id = (char *)(proc ? proc->container_id : "");
	m.kubernetes = proc ? kubernetes_names(e, &names, proc->container_id) : NULL;
	for (size_t i = 0; i < n_sites; i++) {
		const struct cleartap_handoff_site *s = &a->sites[i];
		Cleartap__V1__ProbeSite *p = &sites[i];

		cleartap__v1__probe_site__init(p);
		ct_copy_field(text[i].entry, sizeof(text[i].entry), s->entry_insn,
			      sizeof(s->entry_insn));
		ct_copy_field(text[i].exit, sizeof(text[i].exit), s->exit_insn,
			      sizeof(s->exit_insn));
		ct_copy_field(text[i].reason, sizeof(text[i].reason), s->reason, sizeof(s->reason));
		tls_probe_describe_site(s, text[i].description, sizeof(text[i].description));
		p->function = (char *)tls_probe_function_name(s->func);
		p->entry_offset = s->entry_rel;
		p->entry_instruction = text[i].entry;
		p->entry_emulated = s->entry_emulated;
		p->exit = s->exit_kind <= CLEARTAP_EXIT_RETURNS
			      ? (Cleartap__V1__ProbeSite__Exit)s->exit_kind
			      : CLEARTAP__V1__PROBE_SITE__EXIT__EXIT_NONE;
		p->exit_offset = s->exit_rel;
		p->exit_instruction = text[i].exit;
		p->exit_emulated = s->exit_emulated;
		p->reason = text[i].reason;
		p->description = text[i].description;
		p->n_return_offsets = s->n_returns < CLEARTAP_HANDOFF_MAX_RETURNS
					  ? s->n_returns
					  : CLEARTAP_HANDOFF_MAX_RETURNS;
		p->return_offsets = (uint32_t *)s->return_rel;
		site_ptrs[i] = p;
	}
	m.n_sites = n_sites;
	m.sites = site_ptrs;
	record.kind_case = CLEARTAP__V1__RECORD__KIND_ATTACHMENT;
	record.attachment = &m;
	write_record(e, &record);
	if (e->format == EXPORT_TEXT) {
		ct_buf_reset(&e->buf);
		if (a->status == CLEARTAP_ATTACH_ATTACHED ||
		    a->status == CLEARTAP_ATTACH_ALREADY_ATTACHED) {
			ct_buf_printf(&e->buf, "-- probing %s (%s, %u functions)\n", path,
				      m.library, a->n_functions);
			for (size_t i = 0; i < n_sites; i++)
				ct_buf_printf(&e->buf, "--   %s\n", text[i].description);
		} else {
			ct_buf_printf(&e->buf, "-- not probing %s: %s\n", path, detail);
		}
		write_out(e);
	}
}
