/* SPDX-License-Identifier: Apache-2.0 */
#include "handoff_server.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleartap/events.h"
#include "cleartap/handoff.h"
#include "ct_macro.h"
#include "handoff_io.h"

static int make_address(const char *path, struct sockaddr_un *ret_addr)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	*ret_addr = addr;
	return 0;
}

static int make_parent_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int handoff_listen(const char *path, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un addr;
	int r;

	if ((r = make_address(path, &addr)) < 0 || (r = make_parent_dir(path)) < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		_cleanup_close_ int probe = -1;

		if (errno != EADDRINUSE)
			return -errno;
		/* A socket file is there: in use if someone answers, stale otherwise. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe < 0)
			return -errno;
		if (connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			return -EADDRINUSE;
		if (unlink(path) < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			return -errno;
	}
	/* Anyone may connect; who gets descriptors is decided by SO_PEERCRED. */
	if (chmod(path, 0666) < 0 || listen(fd, 64) < 0)
		return -errno;
	*ret_fd = ct_take_fd(&fd);
	return 0;
}

static uint32_t object_id(int fd)
{
	/* bpf_prog_info and bpf_map_info both start with type, id. */
	struct {
		uint32_t type;
		uint32_t id;
		uint8_t rest[256];
	} info = {};
	uint32_t len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ? 0 : info.id;
}

static void add_fd(struct cleartap_handoff_reply *reply, struct cleartap_handoff_fd *descs,
		   int *fds, uint32_t kind, uint32_t index, int fd)
{
	descs[reply->nfds] = (struct cleartap_handoff_fd){
	    .kind = kind,
	    .index = index,
	    .bpf_id = object_id(fd),
	};
	fds[reply->nfds++] = fd;
}

static bool uid_allowed(uid_t uid, const uid_t *allowed, size_t n)
{
	if (uid == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (allowed[i] == uid)
			return true;
	return false;
}

int handoff_serve_one(int listen_fd, const struct objects *o, const uid_t *allowed_uids,
		      size_t n_allowed, struct handoff_peer *ret_peer)
{
	struct cleartap_handoff_reply reply = {
	    .magic = CLEARTAP_HANDOFF_MAGIC,
	    .version = CLEARTAP_HANDOFF_VERSION,
	    .schema_version = CLEARTAP_SCHEMA_VERSION,
	    .ring_size = o->fds.ring_size,
	    .max_call_bytes = o->fds.max_call_bytes,
	};
	struct cleartap_handoff_fd descs[CLEARTAP_HANDOFF_MAX_FDS];
	int fds[CLEARTAP_HANDOFF_MAX_FDS];
	struct timeval timeout = {.tv_sec = 2};
	struct handoff_peer peer = {};
	_cleanup_close_ int sock = -1;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int r;

	sock = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (sock < 0)
		return -errno;
	if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0 ||
	    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) < 0 ||
	    getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	peer.pid = cred.pid;
	peer.uid = cred.uid;
	peer.gid = cred.gid;
	peer.authorised = uid_allowed(cred.uid, allowed_uids, n_allowed);
	*ret_peer = peer;
	if ((r = handoff_recv_hello(sock)) < 0)
		return r;
	if (!peer.authorised) {
		reply.status = -EACCES;
		return handoff_send_reply(sock, &reply, descs, fds);
	}
	for (uint32_t i = 0; i < o->fds.n_rings; i++)
		add_fd(&reply, descs, fds, CLEARTAP_FD_RING, i, o->fds.rings[i]);
	add_fd(&reply, descs, fds, CLEARTAP_FD_COUNTERS, 0, o->fds.counters);
	add_fd(&reply, descs, fds, CLEARTAP_FD_PROG_TLS_ENTRY, 0, o->fds.prog_tls_enter);
	add_fd(&reply, descs, fds, CLEARTAP_FD_PROG_TLS_RETURN, 0, o->fds.prog_tls_return);
	return handoff_send_reply(sock, &reply, descs, fds);
}
