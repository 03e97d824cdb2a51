/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Sockets behind file descriptors. */
#ifndef CT_SOCK_BPF_H
#define CT_SOCK_BPF_H

#define CT_S_IFMT      00170000
#define CT_S_IFSOCK    0140000
#define CT_IPPROTO_TCP 6

/*
 * The socket behind fd in the current task, or NULL. A pointer found by walking task->files is
 * not one bpf_get_socket_cookie() accepts, so the cookie is read from the socket itself.
 */
static __always_inline struct sock *ct_fd_sock(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *file;
	struct socket *sock;
	unsigned int max;

	if (fd < 0 || !fdt)
		return NULL;
	max = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned int)fd >= max)
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & CT_S_IFMT) != CT_S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return BPF_CORE_READ(sock, sk);
}

/*
 * Set by the loader where tracing programs lack bpf_get_socket_cookie() (before 5.12): then
 * ct_sock_state makes each connection's id when it opens, unique like a cookie, and keeps it
 * here by socket until it closes. (Not the socket's address: the collector must not learn
 * kernel addresses.)
 */
const volatile __u8 ct_sock_ids_made = 0;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);   /* struct sock * */
	__type(value, __u64); /* its id */
} ct_sock_ids SEC(".maps");

/*
 * The cookie of a socket: 0 when it was never generated (ct_sock_state generates it with
 * bpf_get_socket_cookie() when a connection opens; those that predate cleartap have none).
 */
static __always_inline __u64 ct_sock_cookie(struct sock *sk)
{
	__u64 key = (__u64)sk, *id;

	if (!sk)
		return 0;
	if (ct_sock_ids_made) {
		id = bpf_map_lookup_elem(&ct_sock_ids, &key);
		return id ? *id : 0;
	}
	return BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

#endif
