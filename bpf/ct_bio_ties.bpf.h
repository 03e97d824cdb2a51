/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * Memory-BIO runtimes (Node.js, gRPC's C core): their TLS calls encrypt into and decrypt from
 * memory, and the same thread moves the ciphertext with its own socket syscalls around the
 * call: it reads a socket, then SSL_read()s what it read; it SSL_write()s, then writes the
 * result to the socket. So a session that never saw a syscall inside its calls is tied to a
 * connection by the thread's neighbouring ciphertext syscall: for a read, the TLS socket the
 * thread read last (just before the call); for a write, the next TLS socket the thread writes
 * (just after it). Only sessions with no connection yet are tied, once; only TLS sockets moved
 * outside any TLS call are looked at, so socket-BIO libraries (syscalls inside the call) never
 * pay for it. The TLS object makes these maps, the syscall object shares them.
 */
#ifndef CT_BIO_TIES_BPF_H
#define CT_BIO_TIES_BPF_H

/* A read older than this is not the one an SSL_read decrypts; a write this much later than an
 * SSL_write does not carry its ciphertext. */
#define CT_BIO_WINDOW_NS (100ull * 1000 * 1000)

struct ct_ssl_key {
	__u64 tgid;
	__u64 ssl;
};

/* Per thread: its last TLS socket read outside a TLS call, and a write waiting for its socket. */
struct ct_thread_bio {
	__u64 read_cookie;
	__u64 read_ns;
	__s32 read_fd;
	__u32 reserved;
	/* an SSL_write with no connection returned: the thread's next socket write names it */
	__u64 write_ssl;
	__u64 write_ns; /* when */
};

struct ct_bio_tie {
	__u64 conn_cookie;
	__s32 fd;
	__u32 reserved;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct ct_thread_bio);
} ct_thread_bio SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ct_ssl_key);
	__type(value, struct ct_bio_tie);
} ct_bio_ties SEC(".maps");

#endif
