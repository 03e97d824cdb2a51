/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Sockets behind file descriptors, for attributing data to connections. */
#ifndef CT_SOCK_BPF_H
#define CT_SOCK_BPF_H

#define CT_S_IFMT   00170000
#define CT_S_IFSOCK 0140000

/*
 * The cookie of the socket behind fd in the current task, or 0 (not a socket, or a socket whose
 * cookie was never generated: connections opened before cleartap started). The cookie is
 * created by ct_sock_state with bpf_get_socket_cookie(); here it can only be read, since a
 * pointer found by walking task->files is not one the helper accepts.
 */
static __always_inline __u64 ct_fd_socket_cookie(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *file;
	struct socket *sock;
	struct sock *sk;
	unsigned int max;

	if (fd < 0 || !fdt)
		return 0;
	max = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned int)fd >= max)
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return 0;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & CT_S_IFMT) != CT_S_IFSOCK)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	return BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

#endif
