/* SPDX-License-Identifier: Apache-2.0 */
/* One fixed-size message with at most one descriptor alongside it (SCM_RIGHTS). */
#ifndef CT_FD_PASSING_H
#define CT_FD_PASSING_H

#include <stddef.h>

/* fd < 0: the message alone. 0 or -errno; never SIGPIPE. */
int fd_message_send(int sock, const void *data, size_t len, int fd);

/*
 * Exactly len bytes (else -ECONNRESET, or -errno), flags added to MSG_CMSG_CLOEXEC; *ret_fd is
 * the descriptor that came with them, or -1.
 */
int fd_message_recv(int sock, void *data, size_t len, int flags, int *ret_fd);

#endif
