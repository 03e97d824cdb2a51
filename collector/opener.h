/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the collector may still open after lock-down, each by a name fixed before it: the
 * --proto file (reopened on SIGHUP, for log rotation), the --config file (read again on
 * SIGHUP), the --proto unix: socket (its consumer restarted) and the loader's handoff socket
 * (a lease from a restarted loader). The collector opens nothing itself: a child forked before
 * any data was read keeps those rights, with the names in its own address space; it holds only
 * its socket, and its own filter allows nothing else (opener_rules). It answers with a
 * descriptor.
 */
#ifndef CT_OPENER_H
#define CT_OPENER_H

/* A unix stream socket connected to path, with timeout_option (SO_SNDTIMEO, SO_RCVTIMEO) set
 * to timeout_s. fd or -errno. */
int unix_socket_connect(const char *path, int timeout_option, int timeout_s);

/* Seconds a blocking send to a --proto unix: consumer may wait (the final flush at exit). */
#define SINK_SEND_TIMEOUT_S 2

/* The one way a --proto file is opened: appending, O_NOFOLLOW, a regular file. fd or -errno. */
int proto_file_open(const char *path);

/* The child is not waited for: it ends with the collector (end-of-file, or PR_SET_PDEATHSIG). */
struct opener {
	int fd; /* the collector's end of the socketpair, -1: none */
};

/* What the child may open, each NULL when there is none. */
struct opener_names {
	const char *proto_file; /* --proto PATH */
	const char *sink;	/* --proto unix:PATH */
	const char *loader;	/* the loader's handoff socket */
	const char *config;	/* --config PATH, read again on SIGHUP */
};

/* Fork the child (before lock-down); it keeps its own copy of the names. 0 or -errno. */
int opener_start(const struct opener_names *names, struct opener *ret);

/* The --proto file opened again, or -errno (the child's; -ENOENT without a file; -EPIPE). */
int opener_open_proto(struct opener *o);

/* The --config file opened again (read-only), or -errno. */
int opener_open_config(struct opener *o);

/* A new connection to the --proto unix: socket (its send timeout set), or -errno. */
int opener_connect_sink(struct opener *o);

/* A new connection to the loader's socket (its receive timeout set), or -errno. */
int opener_connect_loader(struct opener *o);

/* The child ends when its end of the socketpair reads end-of-file. */
void opener_stop(struct opener *o);

#endif
