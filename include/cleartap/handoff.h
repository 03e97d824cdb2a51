/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The loader -> collector handoff protocol over a SOCK_STREAM Unix socket.
 *
 *   collector: struct cleartap_handoff_hello
 *   loader:    struct cleartap_handoff_reply, then nfds x struct cleartap_handoff_fd, then
 *              n_attachments x struct cleartap_handoff_attachment, in one sendmsg() whose
 *              SCM_RIGHTS control message carries the nfds descriptors in order.
 *
 * The served collector keeps the connection (its lease on the rings). On it, it may then ask
 * for files that appeared later to be probed:
 *
 *   collector: struct cleartap_handoff_attach_request, any number, at most
 *              CLEARTAP_HANDOFF_MAX_IN_FLIGHT unanswered
 *   loader:    struct cleartap_handoff_attach_answer, one per request, in order
 *
 * The collector names a file; the loader checks it, plans the sites itself and attaches. The
 * collector never holds a program descriptor.
 *
 * A refused peer gets a reply with status = -errno and no descriptors. All integers are in host
 * byte order: both ends run on the same machine.
 */
#ifndef CLEARTAP_HANDOFF_H
#define CLEARTAP_HANDOFF_H

#include <linux/types.h>

#define CLEARTAP_HANDOFF_MAGIC 0x50415443u /* "CTAP" */
#define CLEARTAP_HANDOFF_VERSION                                                                   \
	7 /* 2: attachments, 3: probe sites, 4: kernel features,                                   \
	   * 5: attach requests, no program fds, 6: Go returns, 7: counter rows */
#define CLEARTAP_HANDOFF_MAX_FDS	 64
#define CLEARTAP_HANDOFF_MAX_ATTACHMENTS 64

enum cleartap_handoff_kind {
	CLEARTAP_FD_RING = 1,	  /* BPF_MAP_TYPE_RINGBUF, index = shard */
	CLEARTAP_FD_COUNTERS = 2, /* BPF_MAP_TYPE_PERCPU_ARRAY of __u64, enum cleartap_counter */
	/* 3 and 4 were the TLS programs (version 4 and before): never handed out any more */
	CLEARTAP_FD_PROCESSES = 5, /* a sealed memfd of struct cleartap_proc, event SNAPSHOT: the
				    * processes running when the loader started (bpf_id 0) */
	CLEARTAP_FD_CONTAINER_LOGS = 6, /* kubelet's /var/log/containers, opened O_RDONLY: only
					 * listed, for pod names (bpf_id 0) */
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
	__s32 status;	       /* 0, or -errno when the peer is refused */
	__u32 schema_version;  /* CLEARTAP_SCHEMA_VERSION of the loaded BPF objects */
	__u32 ring_size;       /* bytes per ring shard */
	__u32 max_call_bytes;  /* per-call capture cap the programs were loaded with */
	__u16 n_attachments;   /* library files the loader tried to probe */
	__u16 kernel_features; /* enum cleartap_kernel_feature the loader found */
	__u16 counter_rows;    /* rows of the counters map (one per possible CPU) */
	__u16 reserved;
};

/* What the running kernel offers the programs, as the loader probed it at start-up. */
enum cleartap_kernel_feature {
	CLEARTAP_KFEAT_UPROBE_MULTI = 1 << 0, /* uprobe_multi links (6.6): one link per file, and
					       * attaching later files without privilege */
	CLEARTAP_KFEAT_PERF_LINK = 1 << 1, /* BPF links on perf events (5.15): pinnable uprobes */
	CLEARTAP_KFEAT_ATTACH_COOKIE = 1 << 2, /* bpf_get_attach_cookie() in uprobes (5.15) */
	CLEARTAP_KFEAT_BPF_LOOP = 1 << 3,      /* bpf_loop() (5.17) */
	CLEARTAP_KFEAT_SOCKET_COOKIE = 1 << 4, /* bpf_get_socket_cookie() in tp_btf (5.12) */
	CLEARTAP_KFEAT_RINGBUF = 1 << 5,       /* BPF ring buffers (5.8): required */
	/* 1 << 6 was bpf() without capabilities: nothing needs it since handoff version 7 */
};

struct cleartap_handoff_fd {
	__u32 kind;   /* enum cleartap_handoff_kind */
	__u32 index;  /* shard number for rings, 0 otherwise */
	__u32 bpf_id; /* kernel object id, checked by the receiver against the fd */
	__u32 reserved;
};

enum cleartap_attach_status {
	CLEARTAP_ATTACH_ATTACHED = 1,	      /* probes attached by this loader run */
	CLEARTAP_ATTACH_ALREADY_ATTACHED = 2, /* pinned links of an earlier run */
	CLEARTAP_ATTACH_SKIPPED = 3,	      /* not a TLS library we can probe: detail says why */
	CLEARTAP_ATTACH_FAILED = 4,	      /* the attach itself failed: detail says why */
	CLEARTAP_ATTACH_REFUSED = 5, /* a request the loader would not serve: detail says why */
	CLEARTAP_ATTACH__COUNT,
};

enum cleartap_attach_library {
	CLEARTAP_LIB_UNKNOWN = 0,
	CLEARTAP_LIB_OPENSSL = 1,
	CLEARTAP_LIB_GNUTLS = 2,
	CLEARTAP_LIB_GO = 3,
	CLEARTAP_LIB__COUNT,
};

/* How a function's return is observed (the attach planner's choice, lib/attach_planner.h). */
enum cleartap_exit_kind {
	CLEARTAP_EXIT_NONE = 0,		    /* entry only: SSL_set_fd, SSL_free, gnutls_deinit */
	CLEARTAP_EXIT_INSTRUCTION = 1,	    /* uprobe on an instruction every return passes */
	CLEARTAP_EXIT_URETPROBE = 2,	    /* uretprobe at the entry site (stack as at entry) */
	CLEARTAP_EXIT_CALLEE_URETPROBE = 3, /* uretprobe on the internal function it wraps */
	CLEARTAP_EXIT_FIRST_URETPROBE = 4,  /* fallback: uretprobe on the first instruction */
	CLEARTAP_EXIT_RETURNS = 5,	    /* uprobes on each return instruction (Go) */
};

#define CLEARTAP_HANDOFF_MAX_SITES   8
#define CLEARTAP_HANDOFF_MAX_RETURNS 16

/* Where one function's probes sit. Offsets are bytes from the function's first instruction. */
struct cleartap_handoff_site {
	__u8 func; /* enum cleartap_tls_func */
	__u8 exit_kind;
	__u8 entry_emulated; /* 1: the kernel emulates the instruction, 0: it single-steps it */
	__u8 exit_emulated;
	__u32 entry_rel;
	__s64 exit_rel;	       /* may be negative: an internal function placed before it */
	__u64 function_offset; /* file offset of the function */
	char entry_insn[8];    /* mnemonic, NUL-padded */
	char exit_insn[8];
	char reason[64]; /* why a site fell back, "" otherwise */
	__u32 n_returns; /* CLEARTAP_EXIT_RETURNS: each return instruction, exit_rel the first */
	__u32 return_rel[CLEARTAP_HANDOFF_MAX_RETURNS];
	__u32 reserved;
};

/* One library file and what became of it. */
struct cleartap_handoff_attachment {
	__u32 status;	   /* enum cleartap_attach_status */
	__u32 library;	   /* enum cleartap_attach_library */
	__u32 n_functions; /* functions probed */
	__u32 n_sites;	   /* entries of sites[] */
	__u64 dev;
	__u64 ino;
	char path[256];	  /* as the loader named it (may be /proc/<pid>/root/...) */
	char detail[128]; /* reason for skipped/failed; missing optional functions otherwise */
	struct cleartap_handoff_site sites[CLEARTAP_HANDOFF_MAX_SITES];
};

#define CLEARTAP_ATTACH_REQUEST_MAGIC  0x51525443u /* "CTRQ" */
#define CLEARTAP_ATTACH_ANSWER_MAGIC   0x53415443u /* "CTAS" */
#define CLEARTAP_HANDOFF_MAX_IN_FLIGHT 16

enum cleartap_attach_request_flags {
	CLEARTAP_REQUEST_LIBRARY = 1 << 0, /* a library the process opened, else its executable */
	/* not a file: the collector's capture levels need at most ino bytes of each call (0: all
	 * the loader copies); pid, dev, path unused. Answered ATTACHED, or REFUSED with why. */
	CLEARTAP_REQUEST_CALL_LIMIT = 1 << 1,
};

/* "Please probe this file": what the collector saw. The loader trusts none of it. */
struct cleartap_handoff_attach_request {
	__u32 magic; /* CLEARTAP_ATTACH_REQUEST_MAGIC */
	__u32 pid;   /* a process that maps the file */
	__u64 dev;   /* as the collector's stat() saw it; 0 in another mount namespace */
	__u64 ino;
	__u32 mnt_ns;	/* the process's mount namespace (inode of /proc/PID/ns/mnt) */
	__u32 flags;	/* enum cleartap_attach_request_flags */
	char path[256]; /* in the process's mount namespace, NUL-terminated */
};

struct cleartap_handoff_attach_answer {
	__u32 magic; /* CLEARTAP_ATTACH_ANSWER_MAGIC */
	__u32 pid;   /* the request's */
	struct cleartap_handoff_attachment attachment;
};

_Static_assert(sizeof(struct cleartap_handoff_hello) == 8, "hello layout");
_Static_assert(sizeof(struct cleartap_handoff_attach_request) == 288, "request layout");
_Static_assert(sizeof(struct cleartap_handoff_attach_answer) == 8 + 416 + 8 * 176, "answer layout");
_Static_assert(sizeof(struct cleartap_handoff_reply) == 32, "reply layout");
_Static_assert(sizeof(struct cleartap_handoff_site) == 176, "site layout");
_Static_assert(sizeof(struct cleartap_handoff_attachment) == 416 + 8 * 176, "attachment layout");
_Static_assert(sizeof(struct cleartap_handoff_fd) == 16, "fd layout");

#endif
