// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/*
 * Plaintext of OpenSSL and GnuTLS calls. Two uprobe_multi programs cover every probed function of a
 * library file; the attach cookie says which function fired (enum cleartap_tls_func):
 *
 *   ct_tls_enter   SSL_read/SSL_write(_ex): remember the call's arguments for this thread.
 *                  SSL_set_fd: remember the fd for this SSL*.  SSL_free: end the session.
 *   ct_tls_return  SSL_read/SSL_write(_ex): copy what the call transferred, in chunks.
 *   ct_sys_enter   a socket read/write syscall inside a pending call names its fd.
 *
 * Read-only observers: nothing here writes user memory or changes a return value.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "ct_common.bpf.h"
#include "ct_sock.bpf.h"
#include "ct_syscalls.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 ct_max_call_bytes = CLEARTAP_DEFAULT_MAX_CALL_BYTES;

/* A TLS call between entry and return, per thread. */
struct ct_call {
	__u64 ssl;
	__u64 buf;
	__u64 len_ptr; /* size_t *written / *readbytes of the _ex variants */
	__u64 start_ns;
	__s32 fd; /* from the first socket syscall inside the call, -1 until then */
	__u32 func;
	__u64 conn_cookie; /* of that fd's socket */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct ct_call);
} ct_calls SEC(".maps");

struct ct_ssl_key {
	__u64 tgid;
	__u64 ssl;
};

/* Per TLS session: stream positions and the last known fd. Deleted at SSL_free. */
struct ct_ssl_state {
	__u64 offset[2]; /* by enum cleartap_direction */
	__s32 fd;
	__u32 reserved;
	__u64 session_id;
	__u64 conn_cookie;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ct_ssl_key);
	__type(value, struct ct_ssl_state);
} ct_ssl SEC(".maps");

static __always_inline struct ct_ssl_state *ssl_state(__u64 pid_tgid, __u64 ssl)
{
	struct ct_ssl_key key = {.tgid = pid_tgid >> 32, .ssl = ssl};
	struct ct_ssl_state *state = bpf_map_lookup_elem(&ct_ssl, &key);
	/* Unique without shared state: a CPU creates at most one session per nanosecond. */
	struct ct_ssl_state fresh = {
	    .fd = -1,
	    .session_id = (bpf_ktime_get_ns() << 8) | (bpf_get_smp_processor_id() & 0xff),
	};

	if (state)
		return state;
	bpf_map_update_elem(&ct_ssl, &key, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&ct_ssl, &key);
}

static __always_inline void ssl_free(__u64 pid_tgid, __u64 ssl)
{
	struct ct_ssl_key key = {.tgid = pid_tgid >> 32, .ssl = ssl};
	struct ct_ssl_state *state = bpf_map_lookup_elem(&ct_ssl, &key);
	struct cleartap_tls_free *rec;
	void *ring;

	if (!state)
		return; /* never carried data: nothing to end */
	ring = ct_ring_for_this_cpu();
	if (!ring) {
		ct_count(CLEARTAP_CNT_NO_RING, 1);
		goto out;
	}
	rec = bpf_ringbuf_reserve(ring, sizeof(*rec), 0);
	if (!rec) {
		ct_count(CLEARTAP_CNT_DROP_CONTROL, 1);
		goto out;
	}
	ct_fill_header(&rec->hdr, CLEARTAP_REC_TLS_FREE, sizeof(*rec), pid_tgid);
	rec->ssl = ssl;
	rec->bytes_written = state->offset[CLEARTAP_DIR_WRITE];
	rec->bytes_read = state->offset[CLEARTAP_DIR_READ];
	rec->session_id = state->session_id;
	bpf_ringbuf_submit(rec, ct_submit_flags(ring));
out:
	bpf_map_delete_elem(&ct_ssl, &key);
}

SEC("uprobe")
int ct_tls_enter(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 func = bpf_get_attach_cookie(ctx);
	struct ct_ssl_state *state;
	struct ct_call call = {};

	switch (func) {
	case CLEARTAP_FN_SSL_SET_FD:
		state = ssl_state(pid_tgid, PT_REGS_PARM1(ctx));
		if (state)
			state->fd = (int)PT_REGS_PARM2(ctx);
		return 0;
	case CLEARTAP_FN_SSL_FREE:
	case CLEARTAP_FN_GNUTLS_DEINIT:
		ssl_free(pid_tgid, PT_REGS_PARM1(ctx));
		return 0;
	case CLEARTAP_FN_SSL_WRITE_EX:
	case CLEARTAP_FN_SSL_READ_EX:
		call.len_ptr = PT_REGS_PARM4(ctx);
		break;
	case CLEARTAP_FN_SSL_WRITE:
	case CLEARTAP_FN_SSL_READ:
	case CLEARTAP_FN_GNUTLS_SEND: /* (session, data, size): same registers as SSL_write */
	case CLEARTAP_FN_GNUTLS_RECV:
		break;
	default:
		return 0;
	}
	call.ssl = PT_REGS_PARM1(ctx);
	call.buf = PT_REGS_PARM2(ctx);
	call.start_ns = bpf_ktime_get_ns();
	call.fd = -1;
	call.func = func;
	if (bpf_map_update_elem(&ct_calls, &pid_tgid, &call, BPF_ANY))
		ct_count(CLEARTAP_CNT_CALL_STATE_FULL, 1);
	return 0;
}

/* Path buffer for library opens: 256 bytes do not belong on the 512-byte stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cleartap_lib_open);
} ct_path_scratch SEC(".maps");

static __always_inline bool has_prefix(const char *s, __u32 at, const char *prefix, __u32 len)
{
	for (__u32 i = 0; i < len; i++)
		if (s[(at + i) & (CLEARTAP_PATH_LEN - 1)] != prefix[i])
			return false;
	return true;
}

/*
 * A process opens a file named like a TLS library: tell the collector, which probes library
 * files the loader did not know (a copy loaded through LD_LIBRARY_PATH, say).
 */
static __always_inline void ct_library_open(struct pt_regs *regs, __u64 pid_tgid)
{
	struct cleartap_lib_open *scratch, *rec;
	__u32 zero = 0, base = 0;
	long n;
	void *ring;

	/* Loaders open libraries read-only; a file being written (copied) is not one yet. */
	if (PT_REGS_PARM3_CORE(regs) & (CT_O_WRONLY | CT_O_RDWR | CT_O_CREAT))
		return;
	scratch = bpf_map_lookup_elem(&ct_path_scratch, &zero);
	if (!scratch)
		return;
	n = bpf_probe_read_user_str(scratch->path, sizeof(scratch->path),
				    (const char *)PT_REGS_PARM2_CORE(regs));
	if (n <= 1 || scratch->path[0] != '/')
		return; /* dynamic loaders open libraries by absolute path */
	/*
	 * The base name is near the end: scan back at most 32 bytes for the last '/'. (A forward
	 * scan of the whole path, remembering the last '/', exceeds the verifier's 1M
	 * instruction budget: every iteration forks a state.)
	 */
	for (__u32 k = 2; k <= 33; k++) {
		__u32 i;

		if (k > (__u32)n)
			break;
		i = ((__u32)n - k) & (CLEARTAP_PATH_LEN - 1);
		if (scratch->path[i] == '/') {
			base = i + 1;
			break;
		}
	}
	if (!base)
		return;
	if (base + 13 > CLEARTAP_PATH_LEN || (!has_prefix(scratch->path, base, "libssl.so", 9) &&
					      !has_prefix(scratch->path, base, "libgnutls.so", 12)))
		return;
	ring = ct_ring_for_this_cpu();
	if (!ring)
		return;
	rec = bpf_ringbuf_reserve(ring, sizeof(*rec), 0);
	if (!rec) {
		ct_count(CLEARTAP_CNT_DROP_LIB_OPEN, 1);
		return;
	}
	ct_fill_header(&rec->hdr, CLEARTAP_REC_LIB_OPEN, sizeof(*rec), pid_tgid);
	bpf_probe_read_kernel(rec->path, sizeof(rec->path), scratch->path);
	rec->mnt_ns =
	    BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), nsproxy, mnt_ns, ns.inum);
	rec->reserved = 0;
	bpf_ringbuf_submit(rec, ct_submit_flags(ring));
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ct_sys_enter, struct pt_regs *regs, long id)
{
	__u64 pid_tgid;
	struct ct_call *call;

	if (id == CT_NR_openat) {
		ct_library_open(regs, bpf_get_current_pid_tgid());
		return 0;
	}
	if (!ct_is_socket_io_syscall(id))
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	call = bpf_map_lookup_elem(&ct_calls, &pid_tgid);
	if (call && call->fd < 0) {
		call->fd = (int)PT_REGS_PARM1_CORE(regs);
		call->conn_cookie = ct_fd_socket_cookie(call->fd);
	}
	return 0;
}

/* What one return probe emits; only scalars, the callback looks maps up itself. */
struct ct_emit {
	__u64 pid_tgid;
	__u64 ssl;
	__u64 session_id;
	__u64 conn_cookie;
	__u64 buf;
	__u64 stream_offset;
	__u64 start_ns;
	__u64 call_len;
	__u32 captured_len;
	__s32 fd;
	__u8 direction;
	__u8 func;
	__u8 flags;
};

/*
 * bpf_ringbuf_reserve() needs a size the verifier knows as a constant, so payloads go into one of
 * a few size classes instead of always CLEARTAP_CHUNK_MAX: small writes stay small in the ring.
 */
static __always_inline void emit_chunk_class(struct ct_emit *e, void *ring, __u64 offset, __u64 len,
					     const __u64 class_size)
{
	struct cleartap_tls_data *rec;

	if (len > class_size)
		return;
	rec = bpf_ringbuf_reserve(ring, sizeof(*rec) + class_size, 0);
	if (!rec) {
		ct_count(CLEARTAP_CNT_DROP_RING_FULL, 1);
		ct_count(CLEARTAP_CNT_DROP_RING_FULL_BYTES, len);
		return;
	}
	if (bpf_probe_read_user(rec->payload, len, (const void *)(e->buf + offset))) {
		bpf_ringbuf_discard(rec, BPF_RB_NO_WAKEUP);
		ct_count(CLEARTAP_CNT_DROP_READ_FAULT, 1);
		ct_count(CLEARTAP_CNT_DROP_READ_FAULT_BYTES, len);
		return;
	}
	ct_fill_header(&rec->hdr, CLEARTAP_REC_TLS_DATA, sizeof(*rec) + len, e->pid_tgid);
	rec->ssl = e->ssl;
	rec->session_id = e->session_id;
	rec->conn_cookie = e->conn_cookie;
	rec->stream_offset = e->stream_offset;
	rec->call_start_ns = e->start_ns;
	rec->call_len = e->call_len;
	rec->captured_len = e->captured_len;
	rec->chunk_offset = offset;
	rec->chunk_len = len;
	rec->fd = e->fd;
	rec->direction = e->direction;
	rec->func = e->func;
	rec->flags = e->flags;
	__builtin_memset(rec->reserved, 0, sizeof(rec->reserved));
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	ct_count(CLEARTAP_CNT_CHUNKS, 1);
	ct_count(CLEARTAP_CNT_CHUNK_BYTES, len);
	bpf_ringbuf_submit(rec, ct_submit_flags(ring));
}

static long emit_chunk(__u32 index, void *ctx)
{
	/*
	 * 64-bit lengths on purpose: with __u32, clang 14 bounds a zero-extended copy while passing
	 * the original register to bpf_probe_read_user(), which the verifier then sees unbounded.
	 */
	struct ct_emit *e = ctx;
	__u64 offset = (__u64)index * CLEARTAP_CHUNK_MAX;
	__u64 len;
	void *ring;

	if (offset >= e->captured_len)
		return 1;
	len = e->captured_len - offset;
	if (len > CLEARTAP_CHUNK_MAX)
		len = CLEARTAP_CHUNK_MAX;
	ring = ct_ring_for_this_cpu();
	if (!ring) {
		ct_count(CLEARTAP_CNT_NO_RING, 1);
		ct_count(CLEARTAP_CNT_DROP_RING_FULL, 1);
		ct_count(CLEARTAP_CNT_DROP_RING_FULL_BYTES, len);
		return 0;
	}
	if (len <= 256)
		emit_chunk_class(e, ring, offset, len, 256);
	else if (len <= 1024)
		emit_chunk_class(e, ring, offset, len, 1024);
	else if (len <= 4096)
		emit_chunk_class(e, ring, offset, len, 4096);
	else
		emit_chunk_class(e, ring, offset, len, CLEARTAP_CHUNK_MAX);
	return 0;
}

SEC("uprobe")
int ct_tls_return(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct ct_ssl_state *state;
	struct ct_call *pending;
	struct ct_emit e = {};
	struct ct_call call;
	long rc = PT_REGS_RC(ctx);
	__u64 len;

	pending = bpf_map_lookup_elem(&ct_calls, &pid_tgid);
	if (!pending) {
		ct_count(CLEARTAP_CNT_RETURN_WITHOUT_ENTRY, 1);
		return 0;
	}
	call = *pending;
	bpf_map_delete_elem(&ct_calls, &pid_tgid);

	if (call.func == CLEARTAP_FN_SSL_WRITE_EX || call.func == CLEARTAP_FN_SSL_READ_EX) {
		if ((int)rc != 1 || bpf_probe_read_user(&len, sizeof(len), (void *)call.len_ptr))
			return 0;
	} else if (call.func == CLEARTAP_FN_GNUTLS_SEND || call.func == CLEARTAP_FN_GNUTLS_RECV) {
		if (rc <= 0) /* ssize_t: bytes, 0 at end of data, or a negative error */
			return 0;
		len = (__u64)rc;
	} else {
		if ((int)rc <= 0)
			return 0;
		len = (__u32)(int)rc;
	}
	if (len == 0)
		return 0;

	e.direction =
	    (call.func == CLEARTAP_FN_SSL_WRITE || call.func == CLEARTAP_FN_SSL_WRITE_EX ||
	     call.func == CLEARTAP_FN_GNUTLS_SEND)
		? CLEARTAP_DIR_WRITE
		: CLEARTAP_DIR_READ;
	state = ssl_state(pid_tgid, call.ssl);
	if (state) {
		e.session_id = state->session_id;
		e.stream_offset = state->offset[e.direction & 1];
		state->offset[e.direction & 1] += len;
	}
	if (call.fd >= 0) {
		e.flags = CLEARTAP_DATA_FD_FROM_SYSCALL;
		e.conn_cookie = call.conn_cookie;
		if (state) {
			state->fd = call.fd;
			state->conn_cookie = call.conn_cookie;
		}
	} else if (state && state->fd >= 0) {
		/* Served from OpenSSL's buffer without a syscall: the session's last fd. */
		call.fd = state->fd;
		e.conn_cookie = state->conn_cookie;
		e.flags = CLEARTAP_DATA_FD_FROM_CACHE;
	} else {
		ct_count(CLEARTAP_CNT_FD_UNKNOWN, 1);
	}

	e.pid_tgid = pid_tgid;
	e.ssl = call.ssl;
	e.buf = call.buf;
	e.start_ns = call.start_ns;
	e.call_len = len;
	e.captured_len = len > ct_max_call_bytes ? ct_max_call_bytes : len;
	e.fd = call.fd;
	e.func = call.func;

	ct_count(CLEARTAP_CNT_CALLS, 1);
	ct_count(CLEARTAP_CNT_CALL_BYTES, len);
	if (e.captured_len < len) {
		ct_count(CLEARTAP_CNT_TRUNCATED_CALLS, 1);
		ct_count(CLEARTAP_CNT_TRUNCATED_BYTES, len - e.captured_len);
	}
	bpf_loop((e.captured_len + CLEARTAP_CHUNK_MAX - 1) / CLEARTAP_CHUNK_MAX, emit_chunk, &e, 0);
	return 0;
}
