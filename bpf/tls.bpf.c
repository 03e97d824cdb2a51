// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/*
 * Plaintext of OpenSSL and GnuTLS calls. Two uprobe_multi programs cover every probed function of a
 * library file; the attach cookie says which function fired (enum cleartap_tls_func):
 *
 *   ct_tls_enter   SSL_read/SSL_write(_ex): remember the call's arguments for this thread.
 *                  SSL_set_fd: remember the fd for this SSL*.  SSL_free: end the session.
 *   ct_tls_return  SSL_read/SSL_write(_ex): copy what the call transferred, in chunks.
 *
 * The socket syscalls inside a pending call name its fd (syscalls.bpf.c).
 *
 * Read-only observers: nothing here writes user memory or changes a return value.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "ct_common.bpf.h"
#include "ct_emit.bpf.h"
#include "ct_sock.bpf.h"
#include "ct_tls_call.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

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
		if (state) {
			/* its connection too: the first reads may be served from OpenSSL's buffer
			 */
			state->fd = (int)PT_REGS_PARM2(ctx);
			state->conn_cookie = ct_sock_cookie(ct_fd_sock(state->fd));
		}
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
	e.type = CLEARTAP_REC_TLS_DATA;
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
	e.seg_len = e.captured_len;
	ct_emit_segment(&e);
	return 0;
}
