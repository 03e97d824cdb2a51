/* SPDX-License-Identifier: Apache-2.0 */
#include "socket_activation.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "parse_number.h"

#define SD_LISTEN_FDS_START 3

static int find(const char *name)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	size_t name_len = strlen(name);
	uint32_t n, owner;

	if (!pid || !fds || parse_u32(pid, 1, UINT32_MAX, &owner) < 0 ||
	    owner != (uint32_t)getpid() || parse_u32(fds, 1, 64, &n) < 0)
		return -ENOENT;
	if (n == 1)
		return SD_LISTEN_FDS_START;
	for (uint32_t i = 0; names && i < n; i++) {
		size_t len = strcspn(names, ":");

		if (len == name_len && !strncmp(names, name, len))
			return SD_LISTEN_FDS_START + (int)i;
		names += len;
		if (*names == ':')
			names++;
	}
	return -ENOENT;
}

int socket_activation_listener(const char *name)
{
	int fd = find(name), type;
	socklen_t type_len = sizeof(type);

	if (fd < 0)
		return fd;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) < 0 || type != SOCK_STREAM)
		return -ENOTSOCK;
	return fd;
}
