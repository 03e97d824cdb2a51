/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cleartap-collector: never privileged. Receives ring buffers from the loader, drains them on a
 * short timer (and when a probe flags a ring half full), reassembles chunks, and exports.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "cleartap/events.h"
#include "conn_table.h"
#include "ct_log.h"
#include "config_file.h"
#include "container_names.h"
#include "filter.h"
#include "namespaces.h"
#include "probe_requests.h"
#include "proc_table.h"
#include "export.h"
#include "handoff_client.h"
#include "http_session.h"
#include "memory_budget.h"
#include "metrics.h"
#include "metrics_server.h"
#include "parse_number.h"
#include "pipeline.h"
#include "privileges.h"
#include "reassembly.h"
#include "record_batch.h"
#include "record_decode.h"
#include "record_file.h"
#include "redact.h"
#include "kernel_counters.h"
#include "ring_reader.h"
#include "seccomp_policy.h"
#include "opener.h"
#ifdef CLEARTAP_TEST_SWITCHES
#include "test_switches.h"
#endif

#define DEFAULT_SOCKET "/run/cleartap/handoff.sock"
/*
 * Descriptors the collector may hold: it needs about 50 (up to 32 rings, the counters, the lease,
 * stdio, libuv's, the opener's socket, the sinks), and a restarted loader's reply brings as many
 * again for a moment. A bug that leaked them stops here, far below the host's limit.
 */
#define MAX_OPEN_FILES 256

struct options {
	const char *socket_path;
	enum export_format format;
	const char *proto_dest;
	uint32_t drain_interval_ms;
	uint32_t stats_interval_s;
	uint32_t wait_s;
	uint32_t reorder_window_ms;
	uint32_t idle_timeout_s;
	const char *metrics_listen;
	bool all_processes;
	uint64_t max_pending_bytes;
	uint64_t memory_limit, connection_memory;
	bool raw; /* also export the reassembled plaintext segments */
	uint32_t body_limit;
	uint32_t max_waiting;
	bool no_redact;
	const char *redact[REDACT_MAX_NAMES];
	size_t n_redact;
	const char *redact_fields[REDACT_MAX_NAMES];
	size_t n_redact_fields;
	struct filter filter;
	struct capture_rules capture; /* --capture-level, --capture-rule */
	uint64_t call_limit;	      /* --call-limit: asked of the loader, 0: none */
	bool call_limit_auto;	      /* --call-limit auto: the heads when no level needs bodies */
	const char *user;	      /* drop to this user when started as root */
#ifdef CLEARTAP_TEST_SWITCHES
	const char *test_forbidden; /* attempt this forbidden call after lock-down */
	const char *test_drop_call; /* "COMM:write|read:N" loses that call's chunks */
#endif
	const char *record_path; /* keep every kernel record drained here, for replay */
};

struct collector {
	struct options opt;
	struct handoff_objects objects;
	struct ring_reader rings; /* n_rings 0 until set up */
	struct kernel_counters kernel_counters;
	int record_fd; /* --record-to, -1 without */
	struct pipeline pipe;
	struct probe_requests *probes;
	struct redactor redactor;
	struct exporter *exporter;
	struct container_names_dir *names; /* NULL: no Kubernetes names */
	struct opener opener;		   /* what may still be opened after lock-down */
	int exit_status;
	uv_loop_t *loop;
	uv_timer_t drain_timer, stats_timer, relet_timer;
	uv_poll_t ring_poll, lease_poll;
	uv_signal_t sigint, sigterm, sighup;
	struct metrics_server *metrics; /* --metrics-listen; NULL without */
	uint64_t last_drain_ms, start_unix_s, scrapes;
	uint64_t sink_retry_ms;	   /* when a gone --proto unix: consumer is tried again */
	uint64_t asked_call_limit; /* of the loader, last */
};

CT_DEFINE_LOG_MSG("cleartap-collector")

/* Each record of a pass: only collected, dispatched in time order. */
static void on_record(void *ctx, const void *data, size_t size)
{
	pipeline_add(ctx, data, size);
}

static void drain(struct collector *c)
{
	int r;

	ring_reader_consume(&c->rings);
	if (c->record_fd >= 0 && c->pipe.batch.n &&
	    (r = record_file_write_pass(c->record_fd, &c->pipe.batch)) < 0) {
		log_msg("--record-to: %s; no longer recording", strerror(-r));
		close(c->record_fd);
		c->record_fd = -1;
	}
	pipeline_run_pass(&c->pipe);
	if (c->loop)
		c->last_drain_ms = uv_now(c->loop);
}

/* The --proto unix: consumer (cleartap-export) is never reported: what it sends is ours. */
static void note_sink_peer(struct collector *c)
{
	c->opt.filter.sink_pid = exporter_sink_peer_pid(c->exporter);
}

/* A consumer that went away (or was not there at start-up) is tried once a second. */
static void reconnect_sink(struct collector *c)
{
	int fd = opener_connect_sink(&c->opener);

	c->sink_retry_ms = uv_now(c->loop) + 1000;
	if (fd < 0)
		return;
	exporter_replace_sink(c->exporter, fd);
	note_sink_peer(c);
	log_msg("--proto %s: connected", c->opt.proto_dest);
}

static void on_drain_timer(uv_timer_t *t)
{
	struct collector *c = t->data;
	uint32_t hello_pid;
	int sink_error;

	drain(c);
	pipeline_tick(&c->pipe, uv_hrtime());
	exporter_tick(c->exporter); /* output out, and a slow --proto consumer's queue */
	if ((sink_error = exporter_take_sink_error(c->exporter)))
		log_msg("--proto %s: %s; its records are counted as sinkDroppedRecords until it "
			"is back",
			c->opt.proto_dest, strerror(sink_error));
	if (exporter_sink_down(c->exporter) && uv_now(c->loop) >= c->sink_retry_ms)
		reconnect_sink(c);
	else if (exporter_sink_hello(c->exporter, &hello_pid) > 0)
		c->opt.filter.sink_pid = hello_pid; /* better than SO_PEERCRED: systemd's sockets */
}

static void on_ring_wakeup(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	drain(p->data);
}

static void on_probe_answer(void *userdata, const struct cleartap_handoff_attachment *answer,
			    uint32_t pid, bool is_library)
{
	pipeline_attachment(userdata, answer, pid, is_library);
}

static void on_relet_timer(uv_timer_t *t);

/* The loader answers attach requests on the lease connection; its close means it is gone. */
static void on_lease_readable(uv_poll_t *p, int status, int events)
{
	struct collector *c = p->data;
	int r;

	(void)status;
	(void)events;
	r = probe_requests_receive(c->probes, on_probe_answer, &c->pipe);
	if (r < 0) {
		log_msg("the loader %s: the rings stay readable; files that appear are not probed "
			"until a restarted loader gives a new lease (asked every 250 ms)",
			r == -EPROTO ? "sent a malformed answer" : "closed the handoff connection");
		uv_poll_stop(p);
		uv_timer_start(&c->relet_timer, on_relet_timer, 250, 250);
	}
}

static void stop_for(struct collector *c, const char *why)
{
	log_msg("%s: this collector stops (one reader per ring set)", why);
	c->exit_status = EXIT_FAILURE;
	uv_stop(c->loop);
}

/* The lease poll handle is closed before it watches the new connection. */
static void on_lease_poll_closed(uv_handle_t *h)
{
	struct collector *c = h->data;

	uv_poll_init(c->loop, &c->lease_poll, c->objects.lease_fd);
	c->lease_poll.data = c;
	uv_poll_start(&c->lease_poll, UV_READABLE, on_lease_readable);
}

/*
 * After the loader restarted (systemd, a pod's container), the collector asks it for a lease
 * on the rings it reads, so attach requests work again and no second reader is served.
 */
static void on_relet_timer(uv_timer_t *t)
{
	struct collector *c = t->data;
	int fd = opener_connect_loader(&c->opener), r;

	if (fd < 0)
		return; /* not listening yet */
	r = handoff_relet(fd, &c->objects);
	if (r == -EBUSY) {
		close(fd);
		stop_for(c, "the restarted loader serves another collector");
		return;
	}
	if (r == -ESTALE) {
		close(fd);
		stop_for(c, "the restarted loader has rings of its own (it was unloaded): restart "
			    "the collector to read them");
		return;
	}
	if (r < 0) {
		close(fd);
		return; /* try again */
	}
	uv_timer_stop(t);
	close(c->objects.lease_fd);
	c->objects.lease_fd = fd;
	probe_requests_resume(c->probes, fd);
	uv_close((uv_handle_t *)&c->lease_poll, on_lease_poll_closed);
	log_msg("a new lease from the restarted loader: files that appear are probed again");
	/* what it attached at its start (files that appeared while it was gone among them) */
	for (size_t i = 0; i < c->objects.n_attachments; i++)
		pipeline_attachment(&c->pipe, &c->objects.attachments[i], 0, true);
}

/* The kernel's counters, and the collector's table sizes brought up to date. */
static void gather_counters(struct collector *c, uint64_t kernel[CLEARTAP_CNT__MAX])
{
	kernel_counters_read(&c->kernel_counters, kernel);
	c->pipe.counters.connections = conn_table_size(c->pipe.conns);
	c->pipe.counters.processes = proc_table_size(c->pipe.procs);
}

static void report_stats(struct collector *c, bool final)
{
	uint64_t kernel[CLEARTAP_CNT__MAX];

	gather_counters(c, kernel);
	exporter_stats(c->exporter, kernel, reasm_counters(c->pipe.reasm),
		       http_sessions_counters(c->pipe.http), &c->pipe.counters, final);
	exporter_tick(c->exporter);
}

/* Ready: the rings are received and were drained lately (a stuck drain loop is not). */
static bool is_ready(const struct collector *c, const char **ret_why)
{
	uint64_t late_ms =
	    10ULL * c->opt.drain_interval_ms > 1000 ? 10ULL * c->opt.drain_interval_ms : 1000;

	*ret_why = NULL;
	if (!c->rings.n_rings)
		*ret_why = "no ring buffers received";
	else if (uv_now(c->loop) - c->last_drain_ms > late_ms)
		*ret_why = "the rings were not drained in time";
	return !*ret_why;
}

static void render_metrics(struct collector *c, struct ct_buf *body)
{
	uint64_t kernel[CLEARTAP_CNT__MAX];
	Cleartap__V1__KernelCounters kernel_msg;
	Cleartap__V1__CollectorCounters collector_msg;
	struct metrics_state state = {
	    .version = CLEARTAP_VERSION,
	    .start_unix_s = c->start_unix_s,
	    .ring_size = c->objects.fds.ring_size,
	    .n_rings = c->objects.fds.n_rings,
	    .scrapes = c->scrapes,
	    .files = c->pipe.files,
	};
	const char *why;

	state.ready = is_ready(c, &why);
	for (uint32_t i = 0; i < state.n_rings && i < METRICS_MAX_RINGS; i++)
		state.ring_pending[i] = ring_view_pending(&c->rings.rings[i]);
	gather_counters(c, kernel);
	exporter_fill_counters(c->exporter, kernel, reasm_counters(c->pipe.reasm),
			       http_sessions_counters(c->pipe.http), &c->pipe.counters, &kernel_msg,
			       &collector_msg);
	metrics_render(&kernel_msg, &collector_msg, &state, body);
}

/* --metrics-listen: /metrics, /healthz (the loop answers), /readyz. */
static int respond_metrics(void *userdata, const char *path, struct ct_buf *body,
			   const char **ret_type)
{
	struct collector *c = userdata;
	const char *why;

	c->scrapes++;
	if (!strcmp(path, "/metrics")) {
		*ret_type = METRICS_CONTENT_TYPE;
		render_metrics(c, body);
		return 200;
	}
	if (!strcmp(path, "/healthz")) {
		ct_buf_puts(body, "ok\n");
		return 200;
	}
	if (!strcmp(path, "/readyz")) {
		if (!is_ready(c, &why)) {
			ct_buf_printf(body, "not ready: %s\n", why);
			return 503;
		}
		ct_buf_puts(body, "ready\n");
		return 200;
	}
	ct_buf_puts(body, "cleartap-collector: /metrics, /healthz, /readyz\n");
	return 404;
}

static void on_stats_timer(uv_timer_t *t)
{
	report_stats(t->data, false);
}

static void on_signal(uv_signal_t *s, int signum)
{
	(void)signum;
	uv_stop(s->loop);
}

/* --proto PATH (a file), or NULL: no --proto, or a unix: socket. */
static const char *proto_file(const struct options *o)
{
	return o->proto_dest && strncmp(o->proto_dest, "unix:", 5) != 0 ? o->proto_dest : NULL;
}

/* The path of --proto unix:PATH, or NULL. */
static const char *proto_socket(const struct options *o)
{
	return o->proto_dest && strncmp(o->proto_dest, "unix:", 5) == 0 ? o->proto_dest + 5 : NULL;
}

static const char *config_path; /* --config */
static void reload_config(struct collector *c);

/* SIGHUP: the --config file is read again, the --proto file reopened by name (rotation). */
static void on_sighup(uv_signal_t *s, int signum)
{
	struct collector *c = s->data;
	int fd;

	(void)signum;
	if (config_path)
		reload_config(c);
	if (!proto_file(&c->opt)) {
		if (!config_path)
			log_msg("SIGHUP: no --config file to read and no --proto file to reopen");
		return;
	}
	fd = opener_open_proto(&c->opener);
	if (fd < 0 || exporter_replace_proto_file(c->exporter, fd) < 0) {
		log_msg("SIGHUP: cannot reopen --proto %s: %s; still writing where it was",
			c->opt.proto_dest, strerror(fd < 0 ? -fd : EINVAL));
		if (fd >= 0)
			close(fd);
		return;
	}
	log_msg("SIGHUP: --proto %s reopened", c->opt.proto_dest);
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: cleartap-collector [OPTIONS]\n"
	    "Receive cleartap's ring buffers from the loader and print the TLS plaintext they\n"
	    "carry. Runs unprivileged.\n\n"
	    "  --socket PATH            loader handoff socket (default %s)\n"
	    "  --format json|text       stdout format (default json: proto3 JSON lines; text: one\n"
	    "                           line per HTTP transaction)\n"
	    "  --raw                    also export the plaintext segments (TlsData records)\n"
	    "  --include-comm NAME      only processes with this command name (repeatable)\n"
	    "  --exclude-comm NAME      never processes with this command name (repeatable)\n"
	    "  --include-exe PATH       only processes running this executable (repeatable)\n"
	    "  --exclude-exe PATH       never processes running this executable (repeatable)\n"
	    "  --no-loopback            ignore connections to 127.0.0.0/8 and ::1 (default: "
	    "shown)\n"
	    "  --body-limit N           body bytes kept per request/response (default 65536)\n"
	    "  --max-waiting-requests N requests waiting for responses (HTTP/1) or open streams\n"
	    "                           (HTTP/2) per connection before it is no longer parsed\n"
	    "                           (default 256)\n"
	    "  --redact NAME            also redact this header (repeatable; Authorization,\n"
	    "                           Proxy-Authorization, Cookie, Set-Cookie always)\n"
	    "  --redact-field NAME      also redact this query parameter, form field and JSON\n"
	    "                           member (repeatable; password, passwd, token,\n"
	    "                           access_token, refresh_token, secret, client_secret,\n"
	    "                           api_key always)\n"
	    "  --no-redact              show sensitive values as they are\n"
	    "  --capture-level LEVEL    of an HTTP exchange no rule decides: none, summary (no\n"
	    "                           headers, no bodies), headers (no bodies), full (default)\n"
	    "  --capture-rule 'LEVEL [KEY=VALUE ...]'  the first rule all of whose conditions\n"
	    "                           hold decides (repeatable, 32): comm, exe, container\n"
	    "                           (prefix), authority, path (prefix), status (404, 5xx);\n"
	    "                           e.g. 'full status=5xx', 'none path=/healthz'\n"
	    "  --call-limit SIZE|auto|0 ask the loader to copy at most SIZE bytes of each call\n"
	    "                           (auto: 16K when no capture level exports bodies; HTTP/2\n"
	    "                           needs whole calls); 0: all it copies (default)\n"
	    "  --proto DEST             also write length-delimited protobuf to DEST: a file\n"
	    "                           path (appended; reopened on SIGHUP, for log rotation)\n"
	    "                           or unix:PATH (a stream socket)\n"
	    "  --record-to PATH         also keep every kernel record drained in PATH (new file),\n"
	    "                           for replay by bench/replay_bench\n"
	    "  --drain-interval-ms N    drain period (default 10)\n"
	    "  --stats-interval S       stats record every S seconds, 0 = only at exit (default "
	    "10)\n"
	    "  --memory-limit SIZE      memory for traffic state: pending calls, HTTP exchanges,\n"
	    "                           connections (default 256M; K, M, G units); over it,\n"
	    "                           the connections asking for more are no longer parsed\n"
	    "  --connection-memory-limit SIZE\n"
	    "                           the same for one connection's HTTP state, and for one\n"
	    "                           stream's incomplete calls (default 16M)\n"
	    "  --max-pending-bytes SIZE memory for incomplete calls (default 128M)\n"
	    "  --reorder-window-ms N    how long a hole in a stream is waited for before it is\n"
	    "                           reported as a gap (default 250)\n"
	    "  --idle-timeout S         a session without data this long ends: its pending\n"
	    "                           exchanges complete or are reported (default 300)\n"
	    "  --all-processes          a process record for every process exec'd or exiting\n"
	    "                           (default: for those other records name, when they first\n"
	    "                           do, and at their exit)\n"
	    "  --metrics-listen ADDR    serve /metrics (Prometheus), /healthz and /readyz on\n"
	    "                           HOST:PORT (IPv4, or [IPv6]:PORT), or on systemd's\n"
	    "                           socket (systemd)\n"
	    "  --wait S                 wait up to S seconds for the loader's socket (default 10)\n"
	    "  --user NAME              when started as root, become NAME first (required then)\n"
	    "  --print-seccomp-profile  print the OCI seccomp profile (Kubernetes) and exit\n"
	    "  --config PATH            options from a YAML file: a mapping of option names\n"
	    "                           (without --) to a value, a list for repeatable ones,\n"
	    "                           true/false for switches; the command line wins\n"
	    "  --help, --version\n",
	    DEFAULT_SOCKET);
}

/* The options the command line and the --config file share, by getopt_long. */
enum {
	OPT_SOCKET = 256,
	OPT_FORMAT,
	OPT_PROTO,
	OPT_DRAIN,
	OPT_STATS,
	OPT_PENDING,
	OPT_MEMORY_LIMIT,
	OPT_CONNECTION_MEMORY,
	OPT_WAIT,
	OPT_REORDER,
	OPT_IDLE_TIMEOUT,
	OPT_METRICS_LISTEN,
	OPT_ALL_PROCESSES,
	OPT_CONFIG,
	OPT_RAW,
	OPT_INCLUDE_COMM,
	OPT_EXCLUDE_COMM,
	OPT_INCLUDE_EXE,
	OPT_EXCLUDE_EXE,
	OPT_NO_LOOPBACK,
	OPT_BODY_LIMIT,
	OPT_MAX_WAITING,
	OPT_REDACT,
	OPT_REDACT_FIELD,
	OPT_NO_REDACT,
	OPT_CAPTURE_LEVEL,
	OPT_CAPTURE_RULE,
	OPT_CALL_LIMIT,
	OPT_USER,
	OPT_PRINT_SECCOMP,
	OPT_TEST_FORBIDDEN,
	OPT_TEST_DROP,
	OPT_RECORD_TO,
	OPT_VERSION
};
static const struct option longopts[] = {
    {"socket", required_argument, NULL, OPT_SOCKET},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"proto", required_argument, NULL, OPT_PROTO},
    {"record-to", required_argument, NULL, OPT_RECORD_TO},
    {"drain-interval-ms", required_argument, NULL, OPT_DRAIN},
    {"stats-interval", required_argument, NULL, OPT_STATS},
    {"max-pending-bytes", required_argument, NULL, OPT_PENDING},
    {"memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT},
    {"connection-memory-limit", required_argument, NULL, OPT_CONNECTION_MEMORY},
    {"wait", required_argument, NULL, OPT_WAIT},
    {"reorder-window-ms", required_argument, NULL, OPT_REORDER},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN},
    {"all-processes", no_argument, NULL, OPT_ALL_PROCESSES},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"raw", no_argument, NULL, OPT_RAW},
    {"include-comm", required_argument, NULL, OPT_INCLUDE_COMM},
    {"exclude-comm", required_argument, NULL, OPT_EXCLUDE_COMM},
    {"include-exe", required_argument, NULL, OPT_INCLUDE_EXE},
    {"exclude-exe", required_argument, NULL, OPT_EXCLUDE_EXE},
    {"no-loopback", no_argument, NULL, OPT_NO_LOOPBACK},
    {"body-limit", required_argument, NULL, OPT_BODY_LIMIT},
    {"max-waiting-requests", required_argument, NULL, OPT_MAX_WAITING},
    {"redact", required_argument, NULL, OPT_REDACT},
    {"redact-field", required_argument, NULL, OPT_REDACT_FIELD},
    {"no-redact", no_argument, NULL, OPT_NO_REDACT},
    {"capture-level", required_argument, NULL, OPT_CAPTURE_LEVEL},
    {"capture-rule", required_argument, NULL, OPT_CAPTURE_RULE},
    {"call-limit", required_argument, NULL, OPT_CALL_LIMIT},
    {"user", required_argument, NULL, OPT_USER},
    {"print-seccomp-profile", no_argument, NULL, OPT_PRINT_SECCOMP},
#ifdef CLEARTAP_TEST_SWITCHES
    {"test-forbidden", required_argument, NULL, OPT_TEST_FORBIDDEN},
    {"test-drop-call", required_argument, NULL, OPT_TEST_DROP},
#endif
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {},
};

/*
 * One reading of the --config file and the arguments it gave: where argv[i] came from (its
 * place in the file, or the command line: NULL). The start-up one lives as long as the
 * collector (its strings are in the options); a SIGHUP reload's until the next reload.
 */
struct config_generation {
	struct config_file file;
	char **args;
	int argc;
	const struct config_entry **places;
};
static const struct config_entry **option_places; /* of the arguments being parsed */
static struct config_generation startup_config, reloaded_config;
static int cli_argc;
static char **cli_argv; /* the command line: after the file's options on every reading */

static void config_generation_free(struct config_generation *g)
{
	for (int i = 1; g->args && i < g->argc; i++)
		if (g->places[i]) /* made from the file; the command line's are argv's own */
			free(g->args[i]);
	free(g->args);
	free(g->places);
	config_file_free(&g->file);
	memset(g, 0, sizeof(*g));
}

static void log_option_error(int index, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_option_error(int index, const char *fmt, ...)
{
	const struct config_entry *place = option_places && index > 0 ? option_places[index] : NULL;
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (place)
		log_msg("%s:%u:%u: %s", config_path, place->line, place->column, message);
	else
		log_msg("%s", message);
}

static const struct option *option_named(const char *name)
{
	for (const struct option *o = longopts; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

/*
 * The file's options (g->file, read) then the command line's, as g->args: "--name=value", so
 * the command line's own parser checks them (and a later command-line option wins); an error
 * names the file's line and column. 0 or -errno (said).
 */
static int config_args(struct config_generation *g)
{
	const struct config_file *config = &g->file;
	int n = 1;

	g->args = calloc(config->n + (size_t)cli_argc + 1, sizeof(*g->args));
	g->places = calloc(config->n + (size_t)cli_argc + 1, sizeof(*g->places));
	option_places = g->places;
	if (!g->args || !g->places)
		return -ENOMEM;
	g->args[0] = cli_argv[0];
	g->argc = 1;
	for (size_t i = 0; i < config->n; i++) {
		const struct config_entry *e = &config->entries[i];
		const struct option *opt = option_named(e->name);
		char **args = g->args;

		g->places[n] = e;
		if (!opt || opt->val == OPT_CONFIG || opt->val == 'h' || opt->val == OPT_VERSION ||
		    opt->val == OPT_PRINT_SECCOMP) {
			log_option_error(n, "unknown option '%s'", e->name);
			return -EINVAL;
		}
		if (opt->has_arg == no_argument) {
			if (!strcmp(e->value, "false"))
				continue;
			if (strcmp(e->value, "true")) {
				log_option_error(n, "'%s' is true or false, not '%s'", e->name,
						 e->value);
				return -EINVAL;
			}
			if (asprintf(&args[n], "--%s", e->name) < 0)
				return -ENOMEM;
		} else if (asprintf(&args[n], "--%s=%s", e->name, e->value) < 0) {
			return -ENOMEM;
		}
		g->argc = ++n;
	}
	for (int i = 1; i < cli_argc; i++) {
		g->places[n] = NULL;
		g->args[n++] = cli_argv[i];
	}
	g->argc = n;
	return 0;
}

/* --config PATH at start-up: the argument vector to parse, or NULL after saying why. */
static char **load_config(int argc, char **argv, int *ret_argc)
{
	char error[512];

	cli_argc = argc;
	cli_argv = argv;
	for (int i = 1; i < argc && !config_path; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config_path = argv[i + 1];
		else if (!strncmp(argv[i], "--config=", 9))
			config_path = argv[i] + 9;
	}
	if (!config_path) {
		*ret_argc = argc;
		return argv;
	}
	if (config_file_read(config_path, &startup_config.file, error, sizeof(error)) < 0) {
		log_msg("%s", error);
		return NULL;
	}
	if (config_args(&startup_config) < 0)
		return NULL;
	*ret_argc = startup_config.argc;
	return startup_config.args;
}

static int parse_options(int argc, char **argv, struct options *o);

static const struct options default_options = {
    .socket_path = DEFAULT_SOCKET,
    .format = EXPORT_JSON,
    .drain_interval_ms = 10,
    .stats_interval_s = 10,
    .wait_s = 10,
    .reorder_window_ms = PIPELINE_DEFAULT_REORDER_WINDOW_MS,
    .idle_timeout_s = REASM_DEFAULT_IDLE_NS / 1000000000,
    .max_pending_bytes = PIPELINE_DEFAULT_PENDING_BYTES,
    .memory_limit = PIPELINE_DEFAULT_MEMORY_LIMIT,
    .connection_memory = HTTP_DEFAULT_CONNECTION_MEMORY,
    .body_limit = PIPELINE_DEFAULT_BODY_LIMIT,
    .capture = {.default_level = CAPTURE_FULL},
};

/* The redaction o asks for; the key of keep (NULL: a new one) so markers stay comparable. */
static int build_redactor(const struct options *o, const struct redactor *keep,
			  struct redactor *ret)
{
	int r;

	if ((r = redactor_init(ret)) < 0)
		return r;
	if (keep)
		memcpy(ret->key, keep->key, sizeof(ret->key));
	ret->enabled = !o->no_redact;
	for (size_t i = 0; i < o->n_redact; i++)
		if ((r = redactor_add(ret, o->redact[i])) < 0) {
			log_option_error(-1, "invalid --redact '%s'", o->redact[i]);
			return r;
		}
	for (size_t i = 0; i < o->n_redact_fields; i++)
		if ((r = redactor_add_field(ret, o->redact_fields[i])) < 0) {
			log_option_error(-1, "invalid --redact-field '%s'", o->redact_fields[i]);
			return r;
		}
	return 0;
}

static void on_call_limit_answer(void *userdata, const struct cleartap_handoff_attachment *a)
{
	(void)userdata;
	log_msg("the loader %s the per-call limit: %.128s",
		a->status == CLEARTAP_ATTACH_ATTACHED ? "set" : "did not set", a->detail);
}

/*
 * What the kernel copies of each call, as --call-limit asks: sent at start-up (a previous
 * collector's limit stays in the pinned map) and when a reload changes it.
 */
static void ask_call_limit(struct collector *c, bool always)
{
	enum capture_level max = capture_rules_max(&c->opt.capture);
	uint64_t limit = c->opt.call_limit_auto
			     ? (max < CAPTURE_FULL ? CAPTURE_HEADS_CALL_BYTES : 0)
			     : c->opt.call_limit;
	int r;

	if (!always && limit == c->asked_call_limit)
		return;
	if ((r = probe_requests_call_limit(c->probes, (uint32_t)limit, on_call_limit_answer, c)) <
	    0) {
		log_msg("cannot ask the loader for a per-call limit: %s", strerror(-r));
		return;
	}
	c->asked_call_limit = limit;
	if (!limit && max < CAPTURE_FULL &&
	    c->objects.fds.max_call_bytes > CAPTURE_HEADS_CALL_BYTES)
		log_msg(
		    "note: no capture rule exports bodies (at most '%s'), but the kernel copies "
		    "up to %u bytes per call: --call-limit auto copies little more than heads "
		    "(HTTP/1; an HTTP/2 call cut short desynchronises its connection)",
		    capture_level_name(max), c->objects.fds.max_call_bytes);
}

/* What SIGHUP applies; any other option takes effect when the collector starts again. */
static bool reloadable(int option)
{
	switch (option) {
	case OPT_INCLUDE_COMM:
	case OPT_EXCLUDE_COMM:
	case OPT_INCLUDE_EXE:
	case OPT_EXCLUDE_EXE:
	case OPT_NO_LOOPBACK:
	case OPT_REDACT:
	case OPT_REDACT_FIELD:
	case OPT_NO_REDACT:
	case OPT_CAPTURE_LEVEL:
	case OPT_CAPTURE_RULE:
	case OPT_CALL_LIMIT:
	case OPT_RAW:
		return true;
	default:
		return false;
	}
}

/* The option an argument names ("--name" or "--name=value"); NULL for a value. */
static const struct option *option_of(const char *arg, char *name, size_t size)
{
	if (strncmp(arg, "--", 2))
		return NULL;
	snprintf(name, size, "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
	return option_named(name);
}

/* The first argument of a that is not reloadable and differs from b's (or NULL). */
static const char *changed_fixed_option(const struct config_generation *a,
					const struct config_generation *b)
{
	int i = 1, j = 1;

	for (;;) {
		const struct option *oa = NULL, *ob = NULL;
		char name[64];

		for (; i < a->argc; i++)
			if ((oa = option_of(a->args[i], name, sizeof(name))) &&
			    !reloadable(oa->val))
				break;
		for (; j < b->argc; j++)
			if ((ob = option_of(b->args[j], name, sizeof(name))) &&
			    !reloadable(ob->val))
				break;
		if (i == a->argc || j == b->argc)
			return i < a->argc ? a->args[i] : j < b->argc ? b->args[j] : NULL;
		if (strcmp(a->args[i], b->args[j]))
			return a->args[i];
		i++;
		j++;
	}
}

/*
 * SIGHUP: the --config file read again (opened by the opener child) and what may change
 * without a restart applied between two drain passes, so no record is lost or seen twice:
 * filters, redaction, --raw. A file that does not parse, or options that do not, leave the
 * running configuration as it was, and the log says why.
 */
static void reload_config(struct collector *c)
{
	const struct config_generation *running =
	    reloaded_config.args ? &reloaded_config : &startup_config;
	struct config_generation next = {0};
	struct options o = default_options;
	struct redactor redactor;
	const char *fixed;
	char error[512];
	int fd = opener_open_config(&c->opener), r;

	if ((r = config_file_read_fd(fd, config_path, &next.file, error, sizeof(error))) < 0) {
		log_msg("SIGHUP: %s; the running configuration stays", error);
		return;
	}
	optind = 0; /* getopt_long starts over */
	if (config_args(&next) < 0 || parse_options(next.argc, next.args, &o) < 0 ||
	    build_redactor(&o, &c->redactor, &redactor) < 0) {
		log_msg("SIGHUP: %s not applied; the running configuration stays", config_path);
		option_places = running->places;
		config_generation_free(&next);
		return;
	}
	if ((fixed = changed_fixed_option(&next, running)) ||
	    (fixed = changed_fixed_option(running, &next)))
		log_msg("SIGHUP: %s: %s changed (or another option that is read only at start-up): "
			"it takes effect when the collector starts again",
			config_path, fixed);
	o.filter.self_pid = c->opt.filter.self_pid;
	o.filter.sink_pid = c->opt.filter.sink_pid;
	c->opt.filter = o.filter;
	c->redactor = redactor;
	c->opt.raw = c->pipe.config.raw = o.raw;
	c->opt.capture = o.capture; /* the exporter reads it where it is */
	c->opt.call_limit = o.call_limit;
	c->opt.call_limit_auto = o.call_limit_auto;
	ask_call_limit(c, false);
	config_generation_free(&reloaded_config); /* nothing points into it now */
	reloaded_config = next;
	option_places = reloaded_config.places;
	log_msg("SIGHUP: %s applied: %zu include and %zu exclude filters, %s, %zu redacted "
		"headers and %zu fields",
		config_path, o.filter.n_include_comm + o.filter.n_include_exe,
		o.filter.n_exclude_comm + o.filter.n_exclude_exe,
		o.raw ? "segments exported (--raw)" : "no segments", redactor.names.n,
		redactor.fields.n);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		const char *bad = NULL;

		switch (c) {
		case OPT_SOCKET:
			o->socket_path = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "json") == 0)
				o->format = EXPORT_JSON;
			else if (strcmp(optarg, "text") == 0)
				o->format = EXPORT_TEXT;
			else
				bad = "--format (json or text)";
			break;
		case OPT_PROTO:
			o->proto_dest = optarg;
			break;
		case OPT_DRAIN:
			if (parse_u32(optarg, 1, 10000, &o->drain_interval_ms) < 0)
				bad = "--drain-interval-ms (1 to 10000)";
			break;
		case OPT_STATS:
			if (parse_u32(optarg, 0, 86400, &o->stats_interval_s) < 0)
				bad = "--stats-interval (0 to 86400)";
			break;
		case OPT_PENDING:
			if (parse_size(optarg, 1u << 20, 1ULL << 40, &o->max_pending_bytes) < 0)
				bad = "--max-pending-bytes (1M to 1T)";
			break;
		case OPT_MEMORY_LIMIT:
			if (parse_size(optarg, 16u << 20, 1ULL << 40, &o->memory_limit) < 0)
				bad = "--memory-limit (16M to 1T)";
			break;
		case OPT_CONNECTION_MEMORY:
			if (parse_size(optarg, 64u << 10, 1ULL << 40, &o->connection_memory) < 0)
				bad = "--connection-memory-limit (64K to 1T)";
			break;
		case OPT_WAIT:
			if (parse_u32(optarg, 0, 3600, &o->wait_s) < 0)
				bad = "--wait (0 to 3600)";
			break;
		case OPT_REORDER:
			if (parse_u32(optarg, 1, 60000, &o->reorder_window_ms) < 0)
				bad = "--reorder-window-ms (1 to 60000)";
			break;
		case OPT_IDLE_TIMEOUT:
			if (parse_u32(optarg, 1, 86400, &o->idle_timeout_s) < 0)
				bad = "--idle-timeout (1 to 86400)";
			break;
		case OPT_METRICS_LISTEN:
			o->metrics_listen = optarg;
			break;
		case OPT_ALL_PROCESSES:
			o->all_processes = true;
			break;
		case OPT_CONFIG: /* read before the command line (load_config) */
			break;
		case OPT_RAW:
			o->raw = true;
			break;
		case OPT_INCLUDE_COMM:
			if (filter_add(o->filter.include_comm, &o->filter.n_include_comm, optarg) <
			    0)
				bad = "--include-comm (at most 16)";
			break;
		case OPT_EXCLUDE_COMM:
			if (filter_add(o->filter.exclude_comm, &o->filter.n_exclude_comm, optarg) <
			    0)
				bad = "--exclude-comm (at most 16)";
			break;
		case OPT_INCLUDE_EXE:
			if (filter_add(o->filter.include_exe, &o->filter.n_include_exe, optarg) < 0)
				bad = "--include-exe (at most 16)";
			break;
		case OPT_EXCLUDE_EXE:
			if (filter_add(o->filter.exclude_exe, &o->filter.n_exclude_exe, optarg) < 0)
				bad = "--exclude-exe (at most 16)";
			break;
		case OPT_NO_LOOPBACK:
			o->filter.no_loopback = true;
			break;
		case OPT_BODY_LIMIT:
			if (parse_u32(optarg, 0, 64u << 20, &o->body_limit) < 0)
				bad = "--body-limit (0 to 67108864)";
			break;
		case OPT_MAX_WAITING:
			if (parse_u32(optarg, 1, 1u << 20, &o->max_waiting) < 0)
				bad = "--max-waiting-requests (1 to 1048576)";
			break;
		case OPT_REDACT:
			if (o->n_redact == REDACT_MAX_NAMES - 4)
				bad = "--redact (too many)";
			else
				o->redact[o->n_redact++] = optarg;
			break;
		case OPT_REDACT_FIELD:
			if (o->n_redact_fields == REDACT_MAX_NAMES - 8)
				bad = "--redact-field (too many)";
			else
				o->redact_fields[o->n_redact_fields++] = optarg;
			break;
		case OPT_NO_REDACT:
			o->no_redact = true;
			break;
		case OPT_CAPTURE_LEVEL:
			if (capture_level_parse(optarg, &o->capture.default_level) < 0)
				bad = "--capture-level (none, summary, headers or full)";
			break;
		case OPT_CALL_LIMIT:
			o->call_limit_auto = !strcmp(optarg, "auto");
			o->call_limit = 0;
			if (!o->call_limit_auto && strcmp(optarg, "0") &&
			    parse_size(optarg, CLEARTAP_MIN_CALL_LIMIT, UINT32_MAX,
				       &o->call_limit) < 0)
				bad = "--call-limit (auto, 0, or 4K to 4G)";
			break;
		case OPT_CAPTURE_RULE: {
			const char *why;

			if (capture_rules_add(&o->capture, optarg, &why) < 0) {
				log_option_error(optind - 1, "invalid --capture-rule '%s': %s",
						 optarg, why);
				return -EINVAL;
			}
			break;
		}
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_PRINT_SECCOMP: {
			const struct seccomp_rule *tables[] = {
			    collector_startup_rules, collector_runtime_rules, opener_rules};
			size_t counts[] = {collector_startup_rules_count,
					   collector_runtime_rules_count, opener_rules_count};

			exit(seccomp_write_oci_profile(stdout, tables, counts, 3) < 0
				 ? EXIT_FAILURE
				 : EXIT_SUCCESS);
		}
#ifdef CLEARTAP_TEST_SWITCHES
		case OPT_TEST_FORBIDDEN:
			o->test_forbidden = optarg;
			break;
		case OPT_TEST_DROP:
			o->test_drop_call = optarg;
			break;
#endif
		case OPT_RECORD_TO:
			o->record_path = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		case OPT_VERSION:
			printf("cleartap-collector %s (schema %d)\n", CLEARTAP_VERSION,
			       CLEARTAP_SCHEMA_VERSION);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			return -EINVAL;
		}
		if (bad) {
			log_option_error(optind - 1, "invalid %s: '%s'", bad, optarg);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		log_msg("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (o->connection_memory > o->memory_limit) {
		log_msg("invalid --connection-memory-limit: more than --memory-limit");
		return -EINVAL;
	}
	return 0;
}

static const char *fetch_error(int r)
{
	switch (r) {
	case -EACCES:
		return "the loader refused this user (see cleartap-loader --allow-uid)";
	case -EBUSY:
		return "another collector reads the rings (one reader per ring set; the loader's "
		       "log "
		       "names it)";
	case -EPROTONOSUPPORT:
		return "the loader speaks another cleartap version";
	case -EBADF:
		return "a received descriptor is not the BPF object it was announced as";
	case -EPROTO:
		return "malformed handoff reply";
	default:
		return strerror(-r);
	}
}

/* "mnt:[4026531841]" -> 4026531841; read before lock-down (readlink is not allowed after). */
/* Everything the collector will ever need is acquired here, before it serves any data. */
/* The listening socket, made now: after lock-down the collector makes none. */
static int start_metrics(struct collector *c)
{
	int port, r = metrics_listen(c->opt.metrics_listen, COLLECTOR_METRICS_FD, &port);

	if (r < 0) {
		log_msg("cannot listen on --metrics-listen %s: %s", c->opt.metrics_listen,
			r == -ENOENT ? "no socket from systemd (LISTEN_FDS)" : strerror(-r));
		return r;
	}
	c->start_unix_s = (uint64_t)time(NULL);
	c->last_drain_ms = uv_now(c->loop);
	if ((r = metrics_server_start(c->loop, COLLECTOR_METRICS_FD, respond_metrics, c,
				      &c->metrics)) < 0)
		return r;
	if (port)
		log_msg("metrics and health on %s (port %d): /metrics, /healthz, /readyz",
			c->opt.metrics_listen, port);
	else
		log_msg("metrics and health on systemd's socket: /metrics, /healthz, /readyz");
	return 0;
}

static int setup(struct collector *c)
{
	struct pipeline_config pc = {
	    .filter = &c->opt.filter,
	    .redactor = &c->redactor,
	    .capture = &c->opt.capture,
	    .raw = c->opt.raw,
	    .all_processes = c->opt.all_processes,
	    .body_limit = c->opt.body_limit,
	    .max_waiting = c->opt.max_waiting,
	    .max_call_bytes = c->objects.fds.max_call_bytes,
	    .max_pending_bytes = c->opt.max_pending_bytes,
	    .connection_memory = c->opt.connection_memory,
	    .hold_ns = (uint64_t)c->opt.reorder_window_ms * 1000000,
	    .idle_ns = (uint64_t)c->opt.idle_timeout_s * 1000000000,
#ifdef CLEARTAP_TEST_SWITCHES
	    .drop_chunk = c->opt.test_drop_call ? test_drop_chunk : NULL,
	    .drop_userdata = (void *)c->opt.test_drop_call,
#endif
	};
	int r;

	if ((r = exporter_new(stdout, c->opt.format, c->opt.proto_dest, &c->exporter)) < 0) {
		log_msg("cannot open --proto %s: %s", c->opt.proto_dest, strerror(-r));
		return r;
	}
	note_sink_peer(c);
	if (c->opt.record_path) {
		/* opened now: after lock-down no file can be opened for writing */
		c->record_fd =
		    open(c->opt.record_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (c->record_fd < 0 || (r = record_file_start(c->record_fd)) < 0) {
			r = c->record_fd < 0 ? -errno : r;
			log_msg("cannot create --record-to %s: %s", c->opt.record_path,
				strerror(-r));
			return r;
		}
	}
	exporter_set_kernel_features(c->exporter, c->objects.fds.kernel_features);
	/* the loader's: after lock-down it can only be listed again, nothing opened */
	if (c->objects.container_logs_fd >= 0) {
		r = container_names_from_fd(c->objects.container_logs_fd, &c->names);
		if (r < 0)
			log_msg("the container log links: %s; no pod names", strerror(-r));
		else
			c->objects.container_logs_fd = -1; /* the listing owns it now */
		exporter_set_container_names(c->exporter, c->names);
	}
	if ((r = probe_requests_new(c->objects.lease_fd, own_mount_namespace(),
				    c->objects.attachments, c->objects.n_attachments, &c->probes)) <
	    0)
		return r;
	if ((r = build_redactor(&c->opt, NULL, &c->redactor)) < 0)
		return r;
	if ((r = pipeline_init(&c->pipe, &pc, c->exporter, c->probes)) < 0)
		return r;
	if ((r = ring_reader_open(&c->objects.fds, on_record, &c->pipe, &c->rings)) < 0) {
		log_msg("cannot map the ring buffers: %s",
			r == -EBADF ? "a descriptor is not a ring of the size the loader said"
				    : strerror(-r));
		return r;
	}
	if ((r = kernel_counters_open(c->objects.fds.counters, c->objects.fds.counter_rows,
				      &c->kernel_counters)) < 0) {
		log_msg("cannot map the kernel counters: %s",
			r == -EBADF
			    ? "the descriptor is not a counters map of the rows the loader said"
			    : strerror(-r));
		return r;
	}

	/* forked now, before any captured byte is in this process */
	r = opener_start(&(struct opener_names){.proto_file = proto_file(&c->opt),
						.sink = proto_socket(&c->opt),
						.loader = c->opt.socket_path,
						.config = config_path},
			 &c->opener);
	if (r < 0) {
		log_msg("cannot start the opener child: %s", strerror(-r));
		return r;
	}
	c->loop = uv_default_loop();
	uv_timer_init(c->loop, &c->drain_timer);
	uv_timer_init(c->loop, &c->stats_timer);
	uv_timer_init(c->loop, &c->relet_timer);
	uv_poll_init(c->loop, &c->ring_poll, c->rings.epoll_fd);
	uv_poll_init(c->loop, &c->lease_poll, c->objects.lease_fd);
	uv_signal_init(c->loop, &c->sigint);
	uv_signal_init(c->loop, &c->sigterm);
	uv_signal_init(c->loop, &c->sighup);
	c->sighup.data = c;
	c->drain_timer.data = c->stats_timer.data = c->ring_poll.data = c->lease_poll.data = c;
	c->relet_timer.data = c;
	uv_timer_start(&c->drain_timer, on_drain_timer, c->opt.drain_interval_ms,
		       c->opt.drain_interval_ms);
	if (c->opt.stats_interval_s)
		uv_timer_start(&c->stats_timer, on_stats_timer, c->opt.stats_interval_s * 1000ULL,
			       c->opt.stats_interval_s * 1000ULL);
	uv_poll_start(&c->ring_poll, UV_READABLE, on_ring_wakeup);
	uv_poll_start(&c->lease_poll, UV_READABLE, on_lease_readable);
	uv_signal_start(&c->sigint, on_signal, SIGINT);
	uv_signal_start(&c->sigterm, on_signal, SIGTERM);
	uv_signal_start(&c->sighup, on_sighup, SIGHUP);
	return c->opt.metrics_listen ? start_metrics(c) : 0;
}

/* Never root, never a capability. Runs before anything is acquired. */
static int become_unprivileged(const struct options *opt)
{
	const char *why;
	bool bounding_empty;
	int r = privileges_become_unprivileged(opt->user, &why, &bounding_empty);

	if (r < 0) {
		log_msg("%s: %s", why, strerror(-r));
		return r;
	}
	if (!bounding_empty)
		log_msg(
		    "note: capability bounding set not empty; start the collector with an empty "
		    "one (systemd CapabilityBoundingSet=, Kubernetes drop ALL, setpriv "
		    "--bounding-set=-all)");
	return 0;
}

/*
 * The processes running when the loader started: records of the first pass, so they are
 * ordered with the rings' (an exec or exit read there is newer than the snapshot).
 */
static void add_snapshot(struct collector *c)
{
	struct cleartap_proc rec;
	size_t n = 0;

	if (c->objects.processes_fd < 0)
		return;
	while (pread(c->objects.processes_fd, &rec, sizeof(rec), (off_t)(n * sizeof(rec))) ==
	       (ssize_t)sizeof(rec)) {
		pipeline_add(&c->pipe, &rec, sizeof(rec));
		n++;
	}
	close(c->objects.processes_fd);
	c->objects.processes_fd = -1;
	log_msg("%zu processes from the loader's snapshot", n);
}

/* Last step of start-up: from here on only collector_runtime_rules. */
static int lock_down(void)
{
	static char stdout_buffer[1 << 16];
	int r;

	/* Whatever would open files or probe stdout later is done now: tz data, stdio buffers. */
	tzset();
	setvbuf(stdout, stdout_buffer, _IOFBF, sizeof(stdout_buffer));
	r = seccomp_install(collector_runtime_rules, collector_runtime_rules_count);
	if (r < 0)
		log_msg("cannot install the seccomp filter: %s", strerror(-r));
	return r;
}

int main(int argc, char **argv)
{
	struct collector c = {
	    .record_fd = -1,
	    .opener = {.fd = -1},
	    .rings = {.epoll_fd = -1},
	    .opt = default_options,
	};
	uid_t uid;
	int r;

	if (!(argv = load_config(argc, argv, &argc)) || parse_options(argc, argv, &c.opt) < 0 ||
	    become_unprivileged(&c.opt) < 0)
		return EXIT_FAILURE;
	/* a reader of stdout that goes away makes writes fail (counted), it does not end capture */
	signal(SIGPIPE, SIG_IGN);
	if ((r = privileges_forbid_core_dumps()) < 0) { /* before the first captured byte */
		log_msg("cannot forbid core dumps: %s", strerror(-r));
		return EXIT_FAILURE;
	}
	c.opt.filter.self_pid = (uint32_t)getpid(); /* cleartap never reports itself */
	mem_budget_set_limit(c.opt.memory_limit);
	r = handoff_fetch(c.opt.socket_path, c.opt.wait_s * 1000, &c.objects);
	if (r < 0) {
		log_msg("cannot get descriptors from %s: %s", c.opt.socket_path, fetch_error(r));
		return EXIT_FAILURE;
	}
	log_msg("receiving from %u ring buffers (%u bytes each)", c.objects.fds.n_rings,
		c.objects.fds.ring_size);
	r = setup(&c);
	if (r < 0) {
		log_msg("setup failed: %s", strerror(-r));
		return EXIT_FAILURE;
	}
	for (size_t i = 0; i < c.objects.n_attachments; i++)
		pipeline_attachment(&c.pipe, &c.objects.attachments[i], 0, true);
	add_snapshot(&c);
	ask_call_limit(&c, true);
	uid = getuid();
	if ((r = privileges_limit_files(MAX_OPEN_FILES)) < 0) {
		log_msg("cannot limit open files: %s", strerror(-r));
		return EXIT_FAILURE;
	}
	if (lock_down() < 0)
		return EXIT_FAILURE;
	log_msg("locked down: uid %u, no capabilities, seccomp allowlist of %zu rules", uid,
		collector_runtime_rules_count);
#ifdef CLEARTAP_TEST_SWITCHES
	if (c.opt.test_forbidden) {
		r = test_attempt_forbidden(c.opt.test_forbidden);
		log_msg(r == -EINVAL ? "unknown --test-forbidden '%s'"
				     : "survived forbidden call '%s'",
			c.opt.test_forbidden);
		return 3;
	}
#endif

	uv_run(c.loop, UV_RUN_DEFAULT);

	/* Stopped by a signal: drain what is left, flush every pending call, report. */
	drain(&c);
	pipeline_finish(&c.pipe);
	exporter_drain_sink(c.exporter); /* room for the final stats */
	report_stats(&c, true);
	metrics_server_stop(c.metrics);
	uv_run(c.loop, UV_RUN_NOWAIT); /* its handles close */
	pipeline_free(&c.pipe);
	exporter_free(c.exporter);
	container_names_close(c.names);
	probe_requests_free(c.probes);
	opener_stop(&c.opener);
	ring_reader_close(&c.rings);
	kernel_counters_close(&c.kernel_counters);
	handoff_objects_close(&c.objects);
	if (c.record_fd >= 0)
		close(c.record_fd);
	return c.exit_status;
}
