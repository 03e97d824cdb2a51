/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The loader -> collector handoff protocol over a SOCK_STREAM Unix socket.
 *
 *   collector: struct cleartap_handoff_hello
 *   loader:    struct cleartap_handoff_reply, then nfds x struct cleartap_handoff_fd, in one
 *              sendmsg() whose SCM_RIGHTS control message carries the nfds descriptors in order.
 *
 * A refused peer gets a reply with status = -errno and no descriptors. All integers are in host
 * byte order: both ends run on the same machine.
 */
#ifndef CLEARTAP_HANDOFF_H
#define CLEARTAP_HANDOFF_H

#include <linux/types.h>

#define CLEARTAP_HANDOFF_MAGIC	 0x50415443u /* "CTAP" */
#define CLEARTAP_HANDOFF_VERSION 1
#define CLEARTAP_HANDOFF_MAX_FDS 64

enum cleartap_handoff_kind {
	CLEARTAP_FD_RING = 1,	  /* BPF_MAP_TYPE_RINGBUF, index = shard */
	CLEARTAP_FD_COUNTERS = 2, /* BPF_MAP_TYPE_PERCPU_ARRAY of __u64, enum cleartap_counter */
	CLEARTAP_FD_PROG_TLS_ENTRY = 3,	 /* uprobe_multi program for TLS function entry */
	CLEARTAP_FD_PROG_TLS_RETURN = 4, /* uprobe_multi program for TLS function return */
};

struct cleartap_handoff_hello {
	__u32 magic;
	__u16 version;
	__u16 reserved;
};

struct cleartap_handoff_reply {
	__u32 magic;
	__u16 version;
	__u16 nfds;
	__s32 status;	      /* 0, or -errno when the peer is refused */
	__u32 schema_version; /* CLEARTAP_SCHEMA_VERSION of the loaded BPF objects */
	__u32 ring_size;      /* bytes per ring shard */
	__u32 max_call_bytes; /* per-call capture cap the programs were loaded with */
};

struct cleartap_handoff_fd {
	__u32 kind;   /* enum cleartap_handoff_kind */
	__u32 index;  /* shard number for rings, 0 otherwise */
	__u32 bpf_id; /* kernel object id, checked by the receiver against the fd */
	__u32 reserved;
};

_Static_assert(sizeof(struct cleartap_handoff_hello) == 8, "hello layout");
_Static_assert(sizeof(struct cleartap_handoff_reply) == 24, "reply layout");
_Static_assert(sizeof(struct cleartap_handoff_fd) == 16, "fd layout");

#endif
