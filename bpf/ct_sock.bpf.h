/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Sockets behind file descriptors, and what cleartap knows of each TCP connection. */
#ifndef CT_SOCK_BPF_H
#define CT_SOCK_BPF_H

#define CT_S_IFMT      00170000
#define CT_S_IFSOCK    0140000
#define CT_IPPROTO_TCP 6

enum ct_sock_class {
	CT_SOCK_UNKNOWN = 0, /* no data yet */
	CT_SOCK_PLAIN = 1,   /* its bytes are the application's: captured from syscalls */
	CT_SOCK_TLS = 2,     /* ciphertext: only the hellos are sent, data comes from the probes */
};

enum ct_hello_state {
	CT_HELLO_UNKNOWN = 0, /* this direction has carried no byte yet */
	CT_HELLO_OPEN = 1,    /* sending until hello_end */
	CT_HELLO_DONE = 2,
};

/* Per TCP connection opened while cleartap ran; created by ct_sock_state, keyed by cookie. */
struct ct_sock {
	__u64 offset[2];    /* bytes moved by syscalls, by enum cleartap_direction */
	__u64 hello_end[2]; /* TLS: stream offset where the first record ends */
	__u8 class;	    /* enum ct_sock_class */
	__u8 hello[2];	    /* enum ct_hello_state, by direction */
	__u8 reserved[5];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* socket cookie */
	__type(value, struct ct_sock);
} ct_socks SEC(".maps");

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
 * The cookie of a socket: 0 when it was never generated (ct_sock_state generates it with
 * bpf_get_socket_cookie() when a connection opens; those that predate cleartap have none).
 */
static __always_inline __u64 ct_sock_cookie(struct sock *sk)
{
	return sk ? BPF_CORE_READ(sk, __sk_common.skc_cookie.counter) : 0;
}

#endif
