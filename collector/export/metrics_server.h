/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's HTTP endpoint for metrics and health: GET requests on a listening socket made
 * (or received from systemd) before lock-down, at a fixed descriptor the seccomp filter names.
 * Requests are parsed by the collector's own HTTP/1 parser with tight limits; at most
 * METRICS_MAX_CLIENTS at a time, each closed after one response or METRICS_CLIENT_TIMEOUT_MS.
 */
#ifndef CT_METRICS_SERVER_H
#define CT_METRICS_SERVER_H

#include <uv.h>

#include "buf.h"

#define METRICS_MAX_CLIENTS	  8
#define METRICS_CLIENT_TIMEOUT_MS 5000
#define METRICS_MAX_REQUEST	  4096

/* Fill body for path; return the HTTP status, and its content type in *ret_type. */
typedef int (*metrics_respond_fn)(void *userdata, const char *path, struct ct_buf *body,
				  const char **ret_type);

struct metrics_server;

/*
 * "HOST:PORT" (IPv4, or [IPv6]:PORT), or "systemd" (the socket activation's descriptor named
 * "metrics", or its only one): a listening socket, moved to descriptor fd. Returns 0 or -errno;
 * *ret_port is the port bound (0 for systemd's).
 */
int metrics_listen(const char *spec, int fd, int *ret_port);

int metrics_server_start(uv_loop_t *loop, int listen_fd, metrics_respond_fn respond, void *userdata,
			 struct metrics_server **ret);
void metrics_server_stop(struct metrics_server *s);

#endif
