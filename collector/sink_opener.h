/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --proto PATH across log rotation. After lock-down the collector opens no file, so a child
 * forked before it keeps that one right: it opens exactly PATH (fixed when it was forked, in its
 * own address space), for appending and never through a symlink, and hands the descriptor back
 * over a socketpair. Its own filter allows nothing else (sink_opener_rules).
 */
#ifndef CT_SINK_OPENER_H
#define CT_SINK_OPENER_H

#include <sys/types.h>

/* The one way a --proto file is opened: appending, O_NOFOLLOW, a regular file. fd or -errno. */
int proto_file_open(const char *path);

struct sink_opener {
	int fd; /* the collector's end of the socketpair */
	pid_t pid;
};

/* Fork the child (before lock-down). 0 or -errno. */
int sink_opener_start(const char *path, struct sink_opener *ret);

/* Ask the child to open PATH again: the new descriptor, or -errno (the child's, or -EPIPE). */
int sink_opener_reopen(struct sink_opener *o);

/* The child ends when its end of the socketpair reads end-of-file. */
void sink_opener_stop(struct sink_opener *o);

#endif
