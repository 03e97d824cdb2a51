/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * The kernel -> user space ABI: every record the BPF programs emit and every counter they keep.
 * Shared verbatim by bpf/ and the collector. Append fields, never change or reorder them; bump
 * CLEARTAP_SCHEMA_VERSION when a layout changes meaning.
 */
#ifndef CLEARTAP_EVENTS_H
#define CLEARTAP_EVENTS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/*
 * 2: session_id on tls_data and tls_free (an SSL* address is reused by later sessions).
 * 3: conn_cookie on tls_data; conn records.
 * 4: proc records.
 * 5: lib_open records.
 * 6: plain TCP data from socket syscalls (tls_data records, CLEARTAP_DATA_PLAIN) and tls_hello
 *    records; socket counters.
 * 7: probe sites from the attach planner: attach cookies carry the call contract and the
 *    registers the arguments are in (CLEARTAP_COOKIE_*).
 * 8: mnt_ns on proc records (was reserved): executables exec'd in a container are named there.
 * 11: CLEARTAP_DATA_FD_FROM_BIO (memory-BIO ties); the ct_call_limit map, pinned (a loader
 *     reusing older pins would find none: it asks for --unload instead).
 * 12: counters in rows per CPU of a mappable array, ct_call_limit mappable (read and written
 *     without bpf()).
 */
#define CLEARTAP_SCHEMA_VERSION 12

/* Largest payload carried by one data record. Power of two: it bounds the BPF copy. */
#define CLEARTAP_CHUNK_MAX 16384
/* Default cap on bytes copied from one TLS call; the rest is counted as truncated. */
#define CLEARTAP_DEFAULT_MAX_CALL_BYTES (4u << 20)
/*
 * Kernels without bpf_loop (before 5.17) copy with loops the verifier unrolls: at most this many
 * chunks per call (the loader lowers --max-call-bytes to it) and this many iovecs per vectored
 * syscall; the rest is counted as truncated.
 */
#define CLEARTAP_BOUNDED_MAX_CHUNKS	4
#define CLEARTAP_BOUNDED_MAX_CALL_BYTES (CLEARTAP_BOUNDED_MAX_CHUNKS * CLEARTAP_CHUNK_MAX)
#define CLEARTAP_BOUNDED_MAX_IOV	8
/* The least a collector may ask each call be cut to (CLEARTAP_REQUEST_CALL_LIMIT). */
#define CLEARTAP_MIN_CALL_LIMIT 4096u
#define CLEARTAP_COMM_LEN	16
/* Leading bytes of each direction of a TLS connection sent as tls_hello: the first record. */
#define CLEARTAP_HELLO_MAX 4096

enum cleartap_record_type {
	CLEARTAP_REC_TLS_DATA = 1, /* struct cleartap_tls_data */
	CLEARTAP_REC_TLS_FREE = 2, /* struct cleartap_tls_free */
	CLEARTAP_REC_CONN = 3,	   /* struct cleartap_conn */
	CLEARTAP_REC_PROC = 4,	   /* struct cleartap_proc */
	CLEARTAP_REC_LIB_OPEN = 5, /* struct cleartap_lib_open */
	/*
	 * struct cleartap_tls_data: the first TLS record each side of a connection sent (the
	 * ClientHello, the ServerHello), read off the socket. Handshake metadata only, never data.
	 */
	CLEARTAP_REC_TLS_HELLO = 6,
};

/* Common header on every record. */
struct cleartap_record_header {
	__u16 type;	    /* enum cleartap_record_type */
	__u16 version;	    /* CLEARTAP_SCHEMA_VERSION */
	__u32 size;	    /* valid bytes of the record, header and payload included */
	__u64 timestamp_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u32 tgid;	    /* process id */
	__u32 tid;	    /* thread id */
	__u32 cpu;	    /* CPU that emitted the record */
	__u32 reserved;
};

enum cleartap_direction {
	CLEARTAP_DIR_WRITE = 0, /* plaintext the process sent */
	CLEARTAP_DIR_READ = 1,	/* plaintext the process received */
};

/* Probed library functions; also the uprobe_multi attach cookie of each probe. */
enum cleartap_tls_func {
	CLEARTAP_FN_SSL_WRITE = 1,
	CLEARTAP_FN_SSL_READ = 2,
	CLEARTAP_FN_SSL_WRITE_EX = 3,
	CLEARTAP_FN_SSL_READ_EX = 4,
	CLEARTAP_FN_SSL_SET_FD = 5,
	CLEARTAP_FN_SSL_FREE = 6,
	CLEARTAP_FN_GNUTLS_SEND = 7,   /* gnutls_record_send */
	CLEARTAP_FN_GNUTLS_RECV = 8,   /* gnutls_record_recv */
	CLEARTAP_FN_GNUTLS_DEINIT = 9, /* gnutls_deinit */
	/* Socket system calls: plain TCP data, and the hellos of TLS connections. */
	CLEARTAP_FN_SYS_READ = 10,
	CLEARTAP_FN_SYS_WRITE = 11,
	CLEARTAP_FN_SYS_READV = 12,
	CLEARTAP_FN_SYS_WRITEV = 13,
	CLEARTAP_FN_SYS_RECVFROM = 14,
	CLEARTAP_FN_SYS_SENDTO = 15,
	CLEARTAP_FN_SYS_RECVMSG = 16,
	CLEARTAP_FN_SYS_SENDMSG = 17,
	/* Go's crypto/tls, probed in each Go executable */
	CLEARTAP_FN_GO_WRITE = 18, /* crypto/tls.(*Conn).Write */
	CLEARTAP_FN_GO_READ = 19,  /* crypto/tls.(*Conn).Read */
	CLEARTAP_FN_GO_CLOSE = 20, /* crypto/tls.(*Conn).Close */
	/* crypto/tls.(*Conn).handshakeContext: its socket becomes the session's, for the reads
	 * later served from what the handshake already buffered */
	CLEARTAP_FN_GO_HANDSHAKE = 21,
};

/*
 * How a probed call reports what it transferred, read at its exit site.
 */
enum cleartap_call_contract {
	CLEARTAP_CONTRACT_INT = 1,   /* int: bytes when > 0 (SSL_read, SSL_write) */
	CLEARTAP_CONTRACT_EX = 2,    /* > 0 on success, the bytes at *len_ptr (SSL_read_ex, ...) */
	CLEARTAP_CONTRACT_SSIZE = 3, /* ssize_t: bytes when > 0 (gnutls_record_send/recv) */
	/* no data: the socket of the call becomes the session's; never displaces a pending call
	 * (a handshake inside a Read belongs to that Read) */
	CLEARTAP_CONTRACT_HANDSHAKE = 4,
};

/* x86-64 registers as attach cookies name them (pt_regs ax, bx, cx, dx, si, di, bp, sp, r8..). */
enum cleartap_reg {
	CLEARTAP_REG_RAX = 0,
	CLEARTAP_REG_RBX = 1,
	CLEARTAP_REG_RCX = 2,
	CLEARTAP_REG_RDX = 3,
	CLEARTAP_REG_RSI = 4,
	CLEARTAP_REG_RDI = 5,
	CLEARTAP_REG_RBP = 6,
	CLEARTAP_REG_RSP = 7,
	CLEARTAP_REG_R8 = 8, /* ... r15 = 15 */
};

/*
 * Attach cookie of every TLS probe site (uprobe_multi). The attach planner may put an entry
 * site a few instructions into a function, where the prologue has moved an argument to another
 * register: the cookie names the register of each argument the entry program reads.
 *   bits 0-7    enum cleartap_tls_func
 *   bits 8-11   enum cleartap_call_contract (entry and exit sites)
 *   bits 12-15  register of the TLS object (SSL*, gnutls_session_t)   } entry
 *   bits 16-19  register of the buffer, or of the fd for SSL_set_fd   } sites
 *   bits 20-23  register of the size_t * of the _ex contract          } only
 *   bit  32     exit shared with calls that are not ours (a uretprobe on an internal function
 *               other callers reach too): a return without our entry is not a loss
 *   bit  33     the call belongs to a goroutine, not a thread (Go: it may park and resume on
 *               another thread between entry and exit); r14 holds the goroutine
 */
#define CLEARTAP_COOKIE_FUNC(c)	    ((__u32)((c)&0xff))
#define CLEARTAP_COOKIE_CONTRACT(c) ((__u32)(((c) >> 8) & 0xf))
#define CLEARTAP_COOKIE_REG(c, k)   ((__u32)(((c) >> (12 + 4 * (k))) & 0xf))
#define CLEARTAP_COOKIE_SHARED	    (1ull << 32)
#define CLEARTAP_COOKIE_GOROUTINE   (1ull << 33)
#define CLEARTAP_COOKIE(func, contract, reg_obj, reg_buf, reg_len)                                 \
	((__u64)(func) | (__u64)(contract) << 8 | (__u64)(reg_obj) << 12 |                         \
	 (__u64)(reg_buf) << 16 | (__u64)(reg_len) << 20)

enum cleartap_data_flags {
	CLEARTAP_DATA_FD_FROM_SYSCALL = 1 << 0, /* fd seen on this call's read/write syscall */
	CLEARTAP_DATA_FD_FROM_CACHE = 1 << 1,	/* fd remembered for this SSL* */
	CLEARTAP_DATA_FD_FROM_BIO = 1
				    << 3, /* memory BIO: the thread's neighbouring ciphertext I/O */
	/*
	 * From a socket system call, not a TLS library: ssl is 0 and session_id is the
	 * connection's cookie. Gaps in stream_offset are bytes that never passed through user
	 * memory (sendfile, splice).
	 */
	CLEARTAP_DATA_PLAIN = 1 << 2,
};

/*
 * One chunk of the plaintext of one SSL_read/SSL_write call. A call of call_len bytes starts at
 * stream_offset of its (tgid, session_id, direction) stream; its first captured_len bytes are sent
 * as chunks [chunk_offset, chunk_offset + chunk_len). captured_len < call_len means truncated.
 */
struct cleartap_tls_data {
	struct cleartap_record_header hdr;
	__u64 ssl;	     /* SSL* in the process: names the TLS session */
	__u64 stream_offset; /* stream position of the call's first byte */
	__u64 call_start_ns; /* CLOCK_MONOTONIC at function entry */
	__u64 call_len;	     /* bytes the call transferred */
	__u32 captured_len;  /* bytes of the call copied into chunks */
	__u32 chunk_offset;  /* offset of payload[0] within the call */
	__u32 chunk_len;     /* payload bytes in this record */
	__s32 fd;	     /* socket fd, -1 when unknown */
	__u8 direction;	     /* enum cleartap_direction */
	__u8 func;	     /* enum cleartap_tls_func */
	__u8 flags;	     /* enum cleartap_data_flags */
	__u8 reserved[5];
	char comm[CLEARTAP_COMM_LEN];
	__u64 session_id;  /* unique per TLS session; ssl alone is reused after SSL_free */
	__u64 conn_cookie; /* socket cookie of fd (see struct cleartap_conn), 0 when unknown */
	__u8 payload[];
};

/* SSL_free: the session's streams end here. */
struct cleartap_tls_free {
	struct cleartap_record_header hdr;
	__u64 ssl;
	__u64 bytes_written; /* stream lengths at the end */
	__u64 bytes_read;
	__u64 session_id;
};

enum cleartap_conn_event {
	CLEARTAP_CONN_OPEN = 1,	 /* TCP connection established */
	CLEARTAP_CONN_CLOSE = 2, /* TCP connection closed */
};

enum cleartap_conn_role {
	CLEARTAP_ROLE_CLIENT = 1, /* established by connect() */
	CLEARTAP_ROLE_SERVER = 2, /* established by a listening socket */
};

/*
 * A TCP connection opened or closed (inet_sock_set_state). The cookie is the kernel's socket
 * cookie (before 5.12, an id of the same kind cleartap makes at open: ct_sock.bpf.h): stable for
 * the socket's life, never reused; data records name it in conn_cookie.
 * Addresses are in network byte order (IPv4 in the first 4 bytes), ports in host order.
 */
struct cleartap_conn {
	struct cleartap_record_header hdr;
	__u64 cookie;
	__u64 bytes_sent;     /* at close: bytes the local side sent (tcp_sock) */
	__u64 bytes_received; /* at close: bytes it received */
	/* at close of a plain TCP connection: bytes its system calls moved each way (the streams'
	 * lengths, whatever was captured), by enum cleartap_direction; 0 when not known */
	__u64 stream_length[2];
	__u8 local_addr[16];
	__u8 remote_addr[16];
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 local_port;
	__u16 remote_port;
	__u8 role;  /* enum cleartap_conn_role; 0 at close */
	__u8 event; /* enum cleartap_conn_event */
};

enum cleartap_proc_event {
	CLEARTAP_PROC_EXEC = 1, /* a process image started (execve) */
	CLEARTAP_PROC_EXIT = 2, /* a process (its thread group leader) exited */
	/*
	 * Never from the kernel: the loader's /proc snapshot of a process running when it started
	 * (hdr.timestamp_ns: when it was read; filename: its executable, args: its cmdline).
	 */
	CLEARTAP_PROC_SNAPSHOT = 3,
};

#define CLEARTAP_PATH_LEN   256
#define CLEARTAP_ARGS_LEN   256
#define CLEARTAP_CGROUP_LEN 128

/*
 * A process started or ended (sched_process_exec/exit), with what attributes its traffic even
 * when it has exited long before its data is reported. hdr.tgid is the process.
 */
struct cleartap_proc {
	struct cleartap_record_header hdr;
	__u64 start_ns;	 /* task start, CLOCK_MONOTONIC */
	__u64 cgroup_id; /* cgroup v2 id (default hierarchy) */
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__s32 exit_code; /* at exit: wait status (exit status << 8 | signal) */
	__u16 args_len;	 /* bytes of args, NUL-separated, <= CLEARTAP_ARGS_LEN */
	__u8 event;	 /* enum cleartap_proc_event */
	__u8 args_truncated;
	__u32 mnt_ns; /* inode of its mount namespace: filename is a path in there (schema 8) */
	char comm[CLEARTAP_COMM_LEN];
	char filename[CLEARTAP_PATH_LEN]; /* exec: the path that was executed */
	char cgroup[CLEARTAP_CGROUP_LEN]; /* leaf cgroup name: v2, else the memory controller's */
	char args[CLEARTAP_ARGS_LEN];	  /* exec: argv, NUL-separated */
};

/* A process opened a file named like a TLS library (libssl.so*, libgnutls.so*). */
struct cleartap_lib_open {
	struct cleartap_record_header hdr;
	char path[CLEARTAP_PATH_LEN]; /* absolute, in the opening process's mount namespace */
	__u32 mnt_ns;		      /* inode number of that mount namespace */
	__u32 reserved;
};

/* Counters, one row per CPU in the cleartap counters map. Append only. */
enum cleartap_counter {
	CLEARTAP_CNT_CALLS = 0,		    /* calls that returned data */
	CLEARTAP_CNT_CALL_BYTES,	    /* bytes those calls returned */
	CLEARTAP_CNT_CHUNKS,		    /* data records submitted */
	CLEARTAP_CNT_CHUNK_BYTES,	    /* payload bytes submitted */
	CLEARTAP_CNT_DROP_RING_FULL,	    /* data records lost: no ring space */
	CLEARTAP_CNT_DROP_RING_FULL_BYTES,  /* payload bytes lost: no ring space */
	CLEARTAP_CNT_DROP_READ_FAULT,	    /* data records lost: user memory unreadable */
	CLEARTAP_CNT_DROP_READ_FAULT_BYTES, /* payload bytes lost: user memory unreadable */
	CLEARTAP_CNT_TRUNCATED_CALLS,	    /* calls larger than the per-call cap */
	CLEARTAP_CNT_TRUNCATED_BYTES,	    /* bytes beyond the cap, not copied */
	CLEARTAP_CNT_RETURN_WITHOUT_ENTRY,  /* return probe found no entry state */
	CLEARTAP_CNT_CALL_STATE_FULL,	    /* entry state could not be stored */
	CLEARTAP_CNT_FD_UNKNOWN,	    /* calls whose socket fd could not be found */
	CLEARTAP_CNT_DROP_CONTROL,	    /* control records (tls_free) lost: no ring space */
	CLEARTAP_CNT_NO_RING,		    /* no ring shard for this CPU (misconfiguration) */
	CLEARTAP_CNT_DROP_CONN,		    /* connection records lost: no ring space */
	CLEARTAP_CNT_DROP_PROC,		    /* process records lost: no ring space */
	CLEARTAP_CNT_DROP_LIB_OPEN,	    /* library-open records lost: no ring space */
	CLEARTAP_CNT_PLAIN_CALLS,	    /* of calls: socket syscalls on plain TCP connections */
	CLEARTAP_CNT_PLAIN_BYTES,	    /* of call_bytes: their bytes */
	CLEARTAP_CNT_HELLO_BYTES,	    /* TLS hello bytes sent (chunk bytes too) */
	CLEARTAP_CNT_UNTRACKED_CALLS,	    /* TCP syscalls on connections opened before cleartap */
	CLEARTAP_CNT_UNTRACKED_BYTES,	    /* their bytes, not captured */
	CLEARTAP_CNT_UNCOPIED_BYTES,	    /* plain bytes that skipped user memory (sendfile) */
	CLEARTAP_CNT__MAX,
};

/* Entries per CPU row of the counters map: whole 64-byte cache lines, so rows never share one. */
#define CLEARTAP_COUNTER_STRIDE ((CLEARTAP_CNT__MAX + 7) / 8 * 8)

#define CLEARTAP_COUNTER_NAMES                                                                     \
	"calls", "call_bytes", "chunks", "chunk_bytes", "drop_ring_full", "drop_ring_full_bytes",  \
	    "drop_read_fault", "drop_read_fault_bytes", "truncated_calls", "truncated_bytes",      \
	    "return_without_entry", "call_state_full", "fd_unknown", "drop_control", "no_ring",    \
	    "drop_conn", "drop_proc", "drop_lib_open", "plain_calls", "plain_bytes",               \
	    "hello_bytes", "untracked_calls", "untracked_bytes", "uncopied_bytes"

_Static_assert(sizeof(struct cleartap_record_header) == 32, "record header layout");
_Static_assert(sizeof(struct cleartap_tls_data) == 120, "tls_data layout");
_Static_assert(__builtin_offsetof(struct cleartap_tls_data, payload) == 120, "payload offset");
_Static_assert(sizeof(struct cleartap_conn) == 112, "conn layout");
_Static_assert(sizeof(struct cleartap_proc) == 728, "proc layout");
_Static_assert(sizeof(struct cleartap_lib_open) == 296, "lib_open layout");
_Static_assert(sizeof(struct cleartap_tls_free) == 64, "tls_free layout");
_Static_assert((CLEARTAP_CHUNK_MAX & (CLEARTAP_CHUNK_MAX - 1)) == 0, "chunk size power of two");

#endif
