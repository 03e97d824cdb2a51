// SPDX-License-Identifier: Apache-2.0
#include "metrics_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http1_parser.h"
#include "parse_number.h"
#include "socket_activation.h"

struct client {
	struct metrics_server *server;
	uv_poll_t poll;
	int fd;
	uint64_t start_ms;
	struct http1_parser parser;
	char path[128];
	bool have_path, bad, head_only, responding, closing;
	struct ct_buf out;
	size_t sent;
	struct client *next;
};

struct metrics_server {
	uv_loop_t *loop;
	uv_poll_t listen_poll;
	uv_timer_t timer;
	int listen_fd;
	metrics_respond_fn respond;
	void *userdata;
	struct client *clients;
	unsigned n_clients;
	bool stopping;
	unsigned handles_open;
};

/* ---- the listening socket ---- */

static int parse_host_port(const char *spec, struct sockaddr_storage *ss, socklen_t *ret_len)
{
	const char *colon = strrchr(spec, ':');
	char host[64];
	size_t host_len;
	uint32_t port;

	if (!colon || parse_u32(colon + 1, 0, 65535, &port) < 0)
		return -EINVAL;
	host_len = (size_t)(colon - spec);
	if (host_len >= sizeof(host))
		return -EINVAL;
	memcpy(host, spec, host_len);
	host[host_len] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host_len > 2 && host[host_len - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		host[host_len - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*ret_len = sizeof(*a);
		return 0;
	}
	{
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL; /* no names: nothing is resolved */
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*ret_len = sizeof(*a);
	}
	return 0;
}

int metrics_listen(const char *spec, int fd, int *ret_port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int s, r, one = 1;

	*ret_port = 0;
	if (!strcmp(spec, "systemd")) {
		s = socket_activation_listener("metrics");
		if (s < 0)
			return s;
	} else {
		if ((r = parse_host_port(spec, &ss, &len)) < 0)
			return r;
		s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return -errno;
		if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(s, (struct sockaddr *)&ss, len) < 0 || listen(s, 16) < 0) {
			r = -errno;
			close(s);
			return r;
		}
		len = sizeof(ss);
		if (getsockname(s, (struct sockaddr *)&ss, &len) == 0)
			*ret_port =
			    ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							   : ((struct sockaddr_in *)&ss)->sin_port);
	}
	/* the seccomp filter allows accept4 on this one descriptor only */
	if (s != fd) {
		if (dup2(s, fd) < 0) {
			r = -errno;
			close(s);
			return r;
		}
		close(s);
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* ---- clients ---- */

/* One of the server's handles is closed: the last one, once stopping, frees it. */
static void handle_released(struct metrics_server *s)
{
	if (--s->handles_open == 0 && s->stopping)
		free(s);
}

static void handle_closed(uv_handle_t *h)
{
	handle_released(h->data);
}

static void client_closed(uv_handle_t *h)
{
	struct client *c = h->data;
	struct metrics_server *s = c->server;

	close(c->fd);
	http1_parser_free(&c->parser);
	ct_buf_free(&c->out);
	free(c);
	handle_released(s);
}

static void client_close(struct client *c)
{
	struct metrics_server *s = c->server;
	struct client **p;

	if (c->closing)
		return;
	c->closing = true;
	for (p = &s->clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	s->n_clients--;
	uv_close((uv_handle_t *)&c->poll, client_closed);
}

static const char *reason_of(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

static void on_client_event(uv_poll_t *p, int status, int events);

/* The whole response in c->out, then written as the socket takes it. */
static void respond(struct client *c, int status, const char *type, struct ct_buf *body)
{
	ct_buf_printf(&c->out,
		      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		      "Connection: close\r\nCache-Control: no-store\r\n\r\n",
		      status, reason_of(status), type, body->len);
	if (!c->head_only)
		ct_buf_put(&c->out, body->data, body->len);
	c->responding = true;
	if (c->out.failed) {
		client_close(c);
		return;
	}
	uv_poll_start(&c->poll, UV_WRITABLE, on_client_event);
}

static void serve(struct client *c)
{
	struct ct_buf body = {};
	const char *type = "text/plain; charset=utf-8";
	int status;

	if (c->bad || !c->have_path) {
		ct_buf_puts(&body, "bad request\n");
		status = c->bad && c->have_path ? 405 : 400;
	} else {
		status = c->server->respond(c->server->userdata, c->path, &body, &type);
	}
	respond(c, status, type, &body);
	ct_buf_free(&body);
}

static enum http1_body on_head(void *userdata, const struct http1_head *head)
{
	struct client *c = userdata;
	const char *query = memchr(head->target, '?', head->target_len);
	size_t n = query ? (size_t)(query - head->target) : head->target_len;

	if (c->have_path || c->bad)
		return HTTP1_BODY_NONE;
	if (!(head->method_len == 3 && !memcmp(head->method, "GET", 3)) &&
	    !(head->method_len == 4 && !memcmp(head->method, "HEAD", 4)))
		c->bad = true;
	c->head_only = head->method_len == 4 && !memcmp(head->method, "HEAD", 4);
	if (n >= sizeof(c->path))
		n = sizeof(c->path) - 1;
	memcpy(c->path, head->target, n);
	c->path[n] = '\0';
	c->have_path = true;
	return HTTP1_BODY_NONE; /* a body is not read: the request ends at its head */
}

static void on_end(void *userdata, const struct http1_header *trailers, size_t n_trailers)
{
	struct client *c = userdata;

	(void)trailers, (void)n_trailers;
	if (!c->responding)
		serve(c);
}

static void on_error(void *userdata, const char *reason)
{
	struct client *c = userdata;

	(void)reason;
	c->have_path = false;
	if (!c->responding)
		serve(c);
}

static void client_read(struct client *c)
{
	uint8_t buf[1024];
	ssize_t n = read(c->fd, buf, sizeof(buf));

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(c);
		return;
	}
	if (n < 0)
		return;
	if (http1_feed(&c->parser, buf, (size_t)n) < 0)
		client_close(c);
}

static void client_write(struct client *c)
{
	ssize_t n = write(c->fd, c->out.data + c->sent, c->out.len - c->sent);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c);
		return;
	}
	c->sent += (size_t)n;
	if (c->sent == c->out.len)
		client_close(c);
}

static void on_client_event(uv_poll_t *p, int status, int events)
{
	struct client *c = p->data;

	if (status < 0) {
		client_close(c);
		return;
	}
	if (c->responding && (events & UV_WRITABLE))
		client_write(c);
	else if (!c->responding && (events & UV_READABLE))
		client_read(c);
}

static void on_accept(uv_poll_t *p, int status, int events)
{
	struct metrics_server *s = p->data;
	static const struct http1_limits limits = {
	    .max_head = METRICS_MAX_REQUEST, .max_start_line = 1024, .max_headers = 32};
	const struct http1_callbacks cb = {.head = on_head, .end = on_end, .error = on_error};
	struct client *c;
	int fd;

	(void)events;
	if (status < 0)
		return;
	fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (s->n_clients >= METRICS_MAX_CLIENTS || !(c = calloc(1, sizeof(*c)))) {
		close(fd); /* busy: a scraper retries at its next interval */
		return;
	}
	c->server = s;
	c->fd = fd;
	c->start_ms = uv_now(s->loop);
	if (http1_parser_init(&c->parser, true, &limits, &cb, c) < 0 ||
	    uv_poll_init(s->loop, &c->poll, fd) < 0) {
		http1_parser_free(&c->parser);
		close(fd);
		free(c);
		return;
	}
	c->poll.data = c;
	c->next = s->clients;
	s->clients = c;
	s->n_clients++;
	s->handles_open++;
	uv_poll_start(&c->poll, UV_READABLE, on_client_event);
}

/* A client that has not sent its request, or not taken its response, in time is closed. */
static void on_timer(uv_timer_t *t)
{
	struct metrics_server *s = t->data;
	uint64_t now = uv_now(s->loop);

	for (struct client *c = s->clients, *next; c; c = next) {
		next = c->next;
		if (now - c->start_ms >= METRICS_CLIENT_TIMEOUT_MS)
			client_close(c);
	}
}

int metrics_server_start(uv_loop_t *loop, int listen_fd, metrics_respond_fn respond_fn,
			 void *userdata, struct metrics_server **ret)
{
	struct metrics_server *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->listen_fd = listen_fd;
	s->respond = respond_fn;
	s->userdata = userdata;
	if ((r = uv_poll_init(loop, &s->listen_poll, listen_fd)) < 0) {
		free(s);
		return r;
	}
	uv_timer_init(loop, &s->timer);
	s->listen_poll.data = s->timer.data = s;
	s->handles_open = 2;
	uv_poll_start(&s->listen_poll, UV_READABLE, on_accept);
	uv_timer_start(&s->timer, on_timer, 1000, 1000);
	*ret = s;
	return 0;
}

/* The handles close on the loop's next run; the server is freed with the last one. */
void metrics_server_stop(struct metrics_server *s)
{
	if (!s)
		return;
	s->stopping = true;
	while (s->clients)
		client_close(s->clients);
	uv_close((uv_handle_t *)&s->listen_poll, handle_closed);
	uv_close((uv_handle_t *)&s->timer, handle_closed);
}
