/* SPDX-License-Identifier: Apache-2.0 */
/* sd_listen_fds(3) without libsystemd: a listening socket systemd made for this process. */
#ifndef CT_SOCKET_ACTIVATION_H
#define CT_SOCKET_ACTIVATION_H

/* The descriptor named name (FileDescriptorName=), or the only one passed; checked to be a
 * stream socket. -ENOENT: none for this process; -ENOTSOCK: not a stream socket. */
int socket_activation_listener(const char *name);

#endif
