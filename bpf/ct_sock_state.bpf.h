/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * What cleartap knows of each TCP connection it saw open: shared by the connection object
 * (creates and deletes it) and the syscall object (classifies and counts).
 */
#ifndef CT_SOCK_STATE_BPF_H
#define CT_SOCK_STATE_BPF_H

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

#endif
