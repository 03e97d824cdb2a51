/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cleartap-export: the collector's protobuf stream (--proto unix:PATH) to an OpenTelemetry
 * receiver as OTLP/HTTP log records. The collector has no network; this process has nothing
 * else: it never sees the rings, runs unprivileged, and installs its own seccomp allowlist
 * once its sockets and libcurl are set up.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cleartap.pb-c.h"
#include "cleartap/sink_hello.h"
#include "ct_macro.h"
#include "ct_log.h"
#include "export_seccomp_policy.h"
#include "otlp_logs.h"
#include "otlp_sender.h"
#include "parse_number.h"
#include "privileges.h"
#include "record_stream.h"
#include "seccomp_filter.h"
#include "socket_activation.h"

#define DEFAULT_LISTEN "unix:/run/cleartap/export.sock"
#define MAX_CLIENTS    4
#define MAX_LIST       16
#define MAX_OPEN_FILES 64
#define READ_CHUNK     (64u << 10)

struct options {
	const char *listen, *endpoint, *ca_file, *user;
	const char *headers[MAX_LIST], *resource[MAX_LIST], *allow_users[MAX_LIST];
	size_t n_headers, n_resource, n_allow_users;
	bool gzip;
	uint64_t batch_records, batch_delay_ms, queue_records, queue_bytes, timeout_s, max_retry_s,
	    max_record_bytes, stats_interval_s, shutdown_timeout_s;
};

struct client {
	int fd;
	uid_t uid;
	struct record_stream stream;
};

struct exporter_state {
	struct options opt;
	int listen_fd, signal_fd;
	uid_t allowed[MAX_LIST + 1];
	size_t n_allowed;
	struct client clients[MAX_CLIENTS];
	size_t n_clients;
	struct export_counters counters;
	struct ct_buf resource;
	struct otlp_sender *sender;
	bool stopping;
};

CT_DEFINE_LOG_MSG("cleartap-export")

static uint64_t now_unix_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: cleartap-export --endpoint URL [OPTIONS]\n"
	    "Read cleartap-collector's protobuf stream (--proto unix:PATH) and send HTTP\n"
	    "transactions, connections and counters to an OpenTelemetry receiver as OTLP/HTTP\n"
	    "log records (protobuf). Runs unprivileged.\n\n"
	    "  --endpoint URL           the receiver's logs URL, e.g. "
	    "http://collector:4318/v1/logs\n"
	    "                           (default: $OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, or\n"
	    "                           $OTEL_EXPORTER_OTLP_ENDPOINT + /v1/logs)\n"
	    "  --listen unix:PATH|systemd  where the collector connects (default %s)\n"
	    "  --allow-user NAME        a user whose collector may connect (repeatable; the\n"
	    "                           exporter's own user always may)\n"
	    "  --header 'NAME: VALUE'   sent with every request, e.g. authorization (repeatable)\n"
	    "  --resource KEY=VALUE     resource attribute (repeatable; default service.name=\n"
	    "                           cleartap, host.name=this host)\n"
	    "  --ca-file PATH           CA certificates for an https endpoint\n"
	    "  --compression gzip|none  request bodies (default none)\n"
	    "  --batch-size N           log records per request (default 512)\n"
	    "  --batch-delay MS         a smaller batch waits at most this long (default 1000)\n"
	    "  --queue-size N           log records held while the receiver is slow or down\n"
	    "                           (default 20000); more are dropped and counted\n"
	    "  --queue-bytes SIZE       and their bytes (default 64M)\n"
	    "  --timeout S              one request (default 10)\n"
	    "  --max-retry-time S       retries of one batch before it is dropped (default 300)\n"
	    "  --max-record-bytes SIZE  larger collector records are skipped and counted (16M)\n"
	    "  --stats-interval S       counters to stderr and as a log record (default 60; 0 "
	    "off)\n"
	    "  --shutdown-timeout S     at SIGTERM, time left to send what is queued (default 5)\n"
	    "  --user NAME              when started as root, become NAME first (required then)\n"
	    "  --version, --help\n",
	    DEFAULT_LISTEN);
}

static int add_list(const char **list, size_t *n, const char *v, const char *what)
{
	if (*n == MAX_LIST) {
		log_msg("at most %d %s", MAX_LIST, what);
		return -E2BIG;
	}
	list[(*n)++] = v;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum {
		OPT_ENDPOINT = 256,
		OPT_LISTEN,
		OPT_ALLOW_USER,
		OPT_HEADER,
		OPT_RESOURCE,
		OPT_CA_FILE,
		OPT_COMPRESSION,
		OPT_BATCH_SIZE,
		OPT_BATCH_DELAY,
		OPT_QUEUE_SIZE,
		OPT_QUEUE_BYTES,
		OPT_TIMEOUT,
		OPT_MAX_RETRY,
		OPT_MAX_RECORD,
		OPT_STATS,
		OPT_SHUTDOWN,
		OPT_USER,
		OPT_VERSION,
	};
	static const struct option longopts[] = {
	    {"endpoint", required_argument, NULL, OPT_ENDPOINT},
	    {"listen", required_argument, NULL, OPT_LISTEN},
	    {"allow-user", required_argument, NULL, OPT_ALLOW_USER},
	    {"header", required_argument, NULL, OPT_HEADER},
	    {"resource", required_argument, NULL, OPT_RESOURCE},
	    {"ca-file", required_argument, NULL, OPT_CA_FILE},
	    {"compression", required_argument, NULL, OPT_COMPRESSION},
	    {"batch-size", required_argument, NULL, OPT_BATCH_SIZE},
	    {"batch-delay", required_argument, NULL, OPT_BATCH_DELAY},
	    {"queue-size", required_argument, NULL, OPT_QUEUE_SIZE},
	    {"queue-bytes", required_argument, NULL, OPT_QUEUE_BYTES},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"max-retry-time", required_argument, NULL, OPT_MAX_RETRY},
	    {"max-record-bytes", required_argument, NULL, OPT_MAX_RECORD},
	    {"stats-interval", required_argument, NULL, OPT_STATS},
	    {"shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN},
	    {"user", required_argument, NULL, OPT_USER},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct {
		int opt;
		const char *name;
		uint64_t *dst, min, max;
		bool size;
	} numbers[] = {
	    {OPT_BATCH_SIZE, "--batch-size", &o->batch_records, 1, 100000, false},
	    {OPT_BATCH_DELAY, "--batch-delay", &o->batch_delay_ms, 0, 3600000, false},
	    {OPT_QUEUE_SIZE, "--queue-size", &o->queue_records, 1, 100000000, false},
	    {OPT_QUEUE_BYTES, "--queue-bytes", &o->queue_bytes, 1 << 16, 1ull << 34, true},
	    {OPT_TIMEOUT, "--timeout", &o->timeout_s, 1, 3600, false},
	    {OPT_MAX_RETRY, "--max-retry-time", &o->max_retry_s, 0, 86400, false},
	    {OPT_MAX_RECORD, "--max-record-bytes", &o->max_record_bytes, 1 << 10, 1 << 30, true},
	    {OPT_STATS, "--stats-interval", &o->stats_interval_s, 0, 86400, false},
	    {OPT_SHUTDOWN, "--shutdown-timeout", &o->shutdown_timeout_s, 0, 3600, false},
	};
	int c;

	*o = (struct options){
	    .listen = DEFAULT_LISTEN,
	    .batch_records = 512,
	    .batch_delay_ms = 1000,
	    .queue_records = 20000,
	    .queue_bytes = 64u << 20,
	    .timeout_s = 10,
	    .max_retry_s = 300,
	    .max_record_bytes = 16u << 20,
	    .stats_interval_s = 60,
	    .shutdown_timeout_s = 5,
	};
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		bool numeric = false;

		for (size_t i = 0; i < CT_ARRAY_SIZE(numbers); i++) {
			if (numbers[i].opt != c)
				continue;
			numeric = true;
			if ((numbers[i].size ? parse_size(optarg, numbers[i].min, numbers[i].max,
							  numbers[i].dst)
					     : parse_u64(optarg, numbers[i].min, numbers[i].max,
							 numbers[i].dst)) < 0) {
				log_msg("invalid %s '%s' (%llu to %llu)", numbers[i].name, optarg,
					(unsigned long long)numbers[i].min,
					(unsigned long long)numbers[i].max);
				return -EINVAL;
			}
		}
		if (numeric)
			continue;
		switch (c) {
		case OPT_ENDPOINT:
			o->endpoint = optarg;
			break;
		case OPT_LISTEN:
			o->listen = optarg;
			break;
		case OPT_ALLOW_USER:
			if (add_list(o->allow_users, &o->n_allow_users, optarg, "--allow-user") < 0)
				return -E2BIG;
			break;
		case OPT_HEADER:
			if (!strchr(optarg, ':') || optarg[0] == ':' || strpbrk(optarg, "\r\n")) {
				log_msg("invalid --header '%s': NAME: VALUE", optarg);
				return -EINVAL;
			}
			if (add_list(o->headers, &o->n_headers, optarg, "--header") < 0)
				return -E2BIG;
			break;
		case OPT_RESOURCE:
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				log_msg("invalid --resource '%s': KEY=VALUE", optarg);
				return -EINVAL;
			}
			if (add_list(o->resource, &o->n_resource, optarg, "--resource") < 0)
				return -E2BIG;
			break;
		case OPT_CA_FILE:
			o->ca_file = optarg;
			break;
		case OPT_COMPRESSION:
			if (strcmp(optarg, "gzip") && strcmp(optarg, "none")) {
				log_msg("invalid --compression '%s': gzip or none", optarg);
				return -EINVAL;
			}
			o->gzip = !strcmp(optarg, "gzip");
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_VERSION:
			printf("cleartap-export %s\n", CLEARTAP_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		log_msg("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (strcmp(o->listen, "systemd") && strncmp(o->listen, "unix:", 5)) {
		log_msg("invalid --listen '%s': unix:PATH or systemd", o->listen);
		return -EINVAL;
	}
	return 0;
}

/* --endpoint, or the OpenTelemetry SDK's environment variables. Returns an owned string. */
static char *endpoint_url(const struct options *o)
{
	const char *env = getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"), *base;
	char *url = NULL;

	if (o->endpoint)
		return strdup(o->endpoint);
	if (env && *env)
		return strdup(env);
	base = getenv("OTEL_EXPORTER_OTLP_ENDPOINT");
	if (!base || !*base)
		return NULL;
	if (asprintf(&url, "%s%sv1/logs", base, base[strlen(base) - 1] == '/' ? "" : "/") < 0)
		return NULL;
	return url;
}

/* The endpoint must be a URL libcurl takes, http or https, with a host. */
static int check_endpoint(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int r = -EINVAL;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    (!strcmp(scheme, "http") || !strcmp(scheme, "https")) && *host) {
		struct addrinfo *ai = NULL;

		/* glibc loads its name-service modules on the first lookup: before lock-down */
		if (getaddrinfo(host, NULL, NULL, &ai) == 0)
			freeaddrinfo(ai);
		r = 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return r;
}

static int make_listener(struct exporter_state *x)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	const char *path = x->opt.listen + 5;
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (!strcmp(x->opt.listen, "systemd")) {
		x->listen_fd = socket_activation_listener("export");
		if (x->listen_fd < 0) {
			log_msg("--listen systemd: %s", x->listen_fd == -ENOENT
							    ? "no socket from systemd (LISTEN_FDS)"
							    : strerror(-x->listen_fd));
			return x->listen_fd;
		}
		return fcntl(x->listen_fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
	}
	if (strlen(path) >= sizeof(addr.sun_path) || !*path) {
		log_msg("--listen %s: path too long", x->opt.listen);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	/* a socket left by an earlier run is replaced; any other file is not touched */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    chmod(path, 0666) < 0 || listen(fd, MAX_CLIENTS) < 0) {
		int r = -errno;

		log_msg("--listen %s: %s", x->opt.listen, strerror(-r));
		return r;
	}
	x->listen_fd = ct_take_fd(&fd);
	return 0;
}

/* Who may connect: the exporter's own user and each --allow-user (checked by SO_PEERCRED, so
 * the socket's mode need not be trusted). */
static int resolve_allowed(struct exporter_state *x)
{
	x->allowed[x->n_allowed++] = geteuid();
	for (size_t i = 0; i < x->opt.n_allow_users; i++) {
		gid_t gid;
		int r =
		    privileges_lookup_user(x->opt.allow_users[i], &x->allowed[x->n_allowed], &gid);

		if (r < 0) {
			log_msg("unknown --allow-user '%s'", x->opt.allow_users[i]);
			return r;
		}
		x->n_allowed++;
	}
	return 0;
}

static void on_record(void *ctx, const uint8_t *data, size_t len)
{
	struct exporter_state *x = ctx;
	Cleartap__V1__Record *rec = cleartap__v1__record__unpack(NULL, len, data);
	struct ct_buf *queue;
	size_t before;

	x->counters.received++;
	if (!rec) {
		x->counters.malformed++;
		return;
	}
	queue = otlp_sender_queue(x->sender);
	before = queue->len;
	if (otlp_log_from_record(rec, now_unix_ns(), queue) == -ENOENT)
		x->counters.skipped++;
	else
		otlp_sender_commit(x->sender, before);
	cleartap__v1__record__free_unpacked(rec, NULL);
}

static void client_close(struct exporter_state *x, size_t i)
{
	close(x->clients[i].fd);
	record_stream_free(&x->clients[i].stream);
	x->clients[i] = x->clients[--x->n_clients];
}

static void on_client_readable(struct exporter_state *x, size_t i)
{
	static uint8_t chunk[READ_CHUNK];
	struct client *c = &x->clients[i];

	for (int rounds = 0; rounds < 64; rounds++) { /* then let the sender run */
		ssize_t n = read(c->fd, chunk, sizeof(chunk));
		int r;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			if (c->stream.pending.len || c->stream.skip)
				x->counters.malformed++; /* a record cut off by the close */
			log_msg("collector (uid %u) disconnected", (unsigned)c->uid);
			client_close(x, i);
			return;
		}
		r = record_stream_feed(&c->stream, chunk, (size_t)n, on_record, x,
				       &x->counters.oversized);
		if (r < 0) {
			x->counters.malformed++;
			log_msg("collector (uid %u): %s; closing its connection", (unsigned)c->uid,
				r == -EBADMSG ? "not a record stream" : strerror(-r));
			client_close(x, i);
			return;
		}
	}
}

static void on_listener_readable(struct exporter_state *x)
{
	for (;;) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		bool allowed = false;
		int fd = accept4(x->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			close(fd);
			continue;
		}
		for (size_t i = 0; i < x->n_allowed; i++)
			allowed |= cred.uid == x->allowed[i];
		if (!allowed || x->n_clients == MAX_CLIENTS) {
			x->counters.refused_clients++;
			/* 65534 is how a user namespace shows a uid it does not map */
			log_msg("refused a connection from pid %d uid %u: %s", (int)cred.pid,
				(unsigned)cred.uid,
				allowed ? "too many collectors"
				: cred.uid == 65534u
				    ? "not allowed (uid 65534: a uid this user namespace "
				      "does not map; no PrivateUsers= for this unit)"
				    : "not allowed");
			close(fd);
			continue;
		}
		/* who this is, so the collector leaves its own requests out (16 bytes: the new
		 * socket's buffer takes them at once) */
		(void)!send(fd,
			    &(struct cleartap_sink_hello){.magic = CLEARTAP_SINK_HELLO_MAGIC,
							  .pid = (uint32_t)getpid()},
			    sizeof(struct cleartap_sink_hello), MSG_DONTWAIT | MSG_NOSIGNAL);
		x->clients[x->n_clients++] = (struct client){
		    .fd = fd,
		    .uid = cred.uid,
		    .stream = {.max_record = (size_t)x->opt.max_record_bytes},
		};
		log_msg("collector pid %d (uid %u) connected", (int)cred.pid, (unsigned)cred.uid);
	}
}

static void log_stats(const struct exporter_state *x, bool final)
{
	struct ct_buf line = {0};

	for (size_t i = 0; i < export_counter_fields_count; i++)
		ct_buf_printf(&line, " %s=%llu", export_counter_fields[i].name,
			      (unsigned long long)export_counter_value(&x->counters, i));
	ct_buf_putc(&line, '\0');
	log_msg("%sstats%s", final ? "final " : "",
		line.failed ? " (no memory)" : (char *)line.data);
	ct_buf_free(&line);
}

/* The counters on the OTLP stream too, as a "cleartap.export.stats" log record. */
static void queue_stats(struct exporter_state *x, bool final)
{
	struct ct_buf *queue = otlp_sender_queue(x->sender);
	size_t before = queue->len;

	if (otlp_log_from_counters(&x->counters, now_unix_ns(), final, queue) == 0)
		otlp_sender_commit(x->sender, before);
	else
		queue->len = before;
}

static int lock_down(void)
{
	int r;

	tzset();
	r = seccomp_install(export_runtime_rules, export_runtime_rules_count);
	if (r < 0)
		log_msg("cannot install the seccomp filter: %s", strerror(-r));
	return r;
}

static int start(struct exporter_state *x, int argc, char **argv)
{
	struct otlp_sender_options so;
	char host[256] = "";
	_cleanup_free_ char *url = NULL;
	const char *why;
	bool bounding_empty;
	sigset_t signals;
	int r;

	if ((r = parse_options(argc, argv, &x->opt)) < 0)
		return r;
	url = endpoint_url(&x->opt);
	if (!url) {
		log_msg("no --endpoint (nor OTEL_EXPORTER_OTLP_LOGS_ENDPOINT or "
			"OTEL_EXPORTER_OTLP_ENDPOINT)");
		return -EINVAL;
	}
	if ((geteuid() == 0 || getuid() == 0) && !x->opt.user) { /* before anything is made */
		log_msg("refusing to run as root: start as an unprivileged user, or give --user "
			"NAME to become one");
		return -EPERM;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
	if (check_endpoint(url) < 0) {
		log_msg("invalid --endpoint '%s': an http:// or https:// URL with a host", url);
		return -EINVAL;
	}
	if ((r = make_listener(x)) < 0)
		return r;
	if ((r = privileges_become_unprivileged(x->opt.user, &why, &bounding_empty)) < 0) {
		log_msg("%s: %s", why, strerror(-r));
		return r;
	}
	if (!bounding_empty)
		log_msg("note: capability bounding set not empty; start cleartap-export with an "
			"empty one");
	if ((r = privileges_forbid_core_dumps()) < 0 ||
	    (r = privileges_limit_files(MAX_OPEN_FILES)) < 0) {
		log_msg("cannot harden the process: %s", strerror(-r));
		return r;
	}
	if ((r = resolve_allowed(x)) < 0)
		return r;
	gethostname(host, sizeof(host) - 1);
	if ((r = otlp_resource_pack(host, x->opt.resource, x->opt.n_resource, &x->resource)) < 0)
		return r;
	so = (struct otlp_sender_options){
	    .endpoint = url,
	    .headers = x->opt.headers,
	    .n_headers = x->opt.n_headers,
	    .ca_file = x->opt.ca_file,
	    .gzip = x->opt.gzip,
	    .batch_records = x->opt.batch_records,
	    .batch_bytes = 4u << 20,
	    .batch_delay_ms = x->opt.batch_delay_ms,
	    .queue_records = x->opt.queue_records,
	    .queue_bytes = x->opt.queue_bytes,
	    .timeout_ms = x->opt.timeout_s * 1000,
	    .max_retry_ms = x->opt.max_retry_s * 1000,
	    .log = log_msg,
	};
	if ((r = otlp_sender_new(&so, &x->resource, &x->counters, &x->sender)) < 0) {
		log_msg("cannot set up the OTLP sender: %s", strerror(-r));
		return r;
	}
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &signals, NULL) < 0 ||
	    (x->signal_fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		return -errno;
	srandom((unsigned)now_unix_ns());
	log_msg("exporting to %s (batches of %llu, queue %llu); collectors connect to %s", url,
		(unsigned long long)x->opt.batch_records, (unsigned long long)x->opt.queue_records,
		x->opt.listen);
	return lock_down();
}

static void on_signal(struct exporter_state *x)
{
	struct signalfd_siginfo si;

	while (read(x->signal_fd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
			x->stopping = true;
}

static void run(struct exporter_state *x)
{
	uint64_t stats_ms = x->opt.stats_interval_s * 1000,
		 next_stats = ct_monotonic_ms() + stats_ms;
	uint64_t deadline = 0;

	for (;;) {
		struct curl_waitfd fds[2 + MAX_CLIENTS];
		unsigned n = 0;
		long timeout = otlp_sender_run(x->sender, x->stopping);
		uint64_t now = ct_monotonic_ms();

		if (x->stopping) {
			if (!deadline) {
				deadline = now + x->opt.shutdown_timeout_s * 1000;
				queue_stats(x, true);
				continue;
			}
			if (otlp_sender_idle(x->sender) || now >= deadline)
				return;
			timeout = timeout < 100 ? timeout : 100;
		}
		if (stats_ms && now >= next_stats) {
			log_stats(x, false);
			queue_stats(x, false);
			next_stats = now + stats_ms;
		}
		if (stats_ms && (long)(next_stats - now) < timeout)
			timeout = (long)(next_stats - now);
		fds[n++] = (struct curl_waitfd){.fd = x->signal_fd, .events = CURL_WAIT_POLLIN};
		if (!x->stopping)
			fds[n++] =
			    (struct curl_waitfd){.fd = x->listen_fd, .events = CURL_WAIT_POLLIN};
		for (size_t i = 0; i < x->n_clients; i++)
			fds[n++] = (struct curl_waitfd){.fd = x->clients[i].fd,
							.events = CURL_WAIT_POLLIN};
		if (curl_multi_poll(otlp_sender_multi(x->sender), fds, n, (int)timeout, NULL) !=
		    CURLM_OK)
			continue;
		if (fds[0].revents)
			on_signal(x);
		for (unsigned i = n; i-- > 1;) {
			if (!fds[i].revents)
				continue;
			if (fds[i].fd == x->listen_fd)
				on_listener_readable(x);
			else
				for (size_t k = 0; k < x->n_clients; k++)
					if (x->clients[k].fd == fds[i].fd) {
						on_client_readable(x, k);
						break;
					}
		}
	}
}

int main(int argc, char **argv)
{
	struct exporter_state x = {.listen_fd = -1, .signal_fd = -1};
	int r = start(&x, argc, argv);

	if (r < 0)
		return r == -EINVAL ? 2 : 1;
	run(&x);
	while (x.n_clients)
		client_close(&x, 0);
	otlp_sender_free(x.sender); /* what is still queued is counted as failed */
	log_stats(&x, true);
	return 0;
}
