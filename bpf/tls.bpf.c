// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/*
 * Plaintext of OpenSSL and GnuTLS calls. Two uprobe_multi programs cover every probed function of a
 * library file; the attach cookie says which function fired (enum cleartap_tls_func), its call
 * contract, and in which registers the arguments are (CLEARTAP_COOKIE_*): the attach planner
 * puts probes on instructions the kernel emulates, which may be past the prologue.
 *
 *   ct_tls_enter   SSL_read/SSL_write(_ex): remember the call's arguments for this thread.
 *                  SSL_set_fd: remember the fd for this SSL*.  SSL_free: end the session.
 *   ct_tls_return  SSL_read/SSL_write(_ex): copy what the call transferred, in chunks. Runs as a
 *                  uprobe on an exit instruction (rax holds the result there) or as a uretprobe.
 *
 * Go's crypto/tls takes the same programs: (*Conn).Write/Read are data calls whose exits are
 * their return instructions, (*Conn).Close ends the session; the call is the goroutine's
 * (CLEARTAP_COOKIE_GOROUTINE, ct_go_calls), not the thread's.
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
#include "ct_bio_ties.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Per TLS session: stream positions and the last known fd. Ended, not deleted, at SSL_free:
 * Go's (*Conn).Close can run on one goroutine while another's Write is still inside the call,
 * and that Write's data belongs to the ended session, not to a new one at offset 0.
 */
struct ct_ssl_state {
	__u64 offset[2]; /* by enum cleartap_direction */
	__s32 fd;
	__u32 reserved;
	__u64 session_id;
	__u64 conn_cookie;
	__u64 freed_ns; /* when its end was told; 0 while it lives */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ct_ssl_key);
	__type(value, struct ct_ssl_state);
} ct_ssl SEC(".maps");

/* The session of ssl for a call that began at start_ns (a call begun after its end: a new one). */
static __always_inline struct ct_ssl_state *ssl_state(__u64 pid_tgid, __u64 ssl, __u64 start_ns)
{
	struct ct_ssl_key key = {.tgid = pid_tgid >> 32, .ssl = ssl};
	struct ct_ssl_state *state = bpf_map_lookup_elem(&ct_ssl, &key);
	/* Unique without shared state: a CPU creates at most one session per nanosecond. */
	struct ct_ssl_state fresh = {
	    .fd = -1,
	    .session_id = (bpf_ktime_get_ns() << 8) | (bpf_get_smp_processor_id() & 0xff),
	};

	if (state && state->freed_ns && start_ns > state->freed_ns) {
		*state = fresh; /* the address was reused for a new session */
		return state;
	}
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

	if (!state || state->freed_ns)
		return; /* never carried data, or ended already: nothing to end */
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
	/* kept for calls still inside; the LRU map forgets it, or a new session reuses it */
	state->freed_ns = bpf_ktime_get_ns();
}

/*
 * Kernels without bpf_get_attach_cookie (before 5.15) get one instance of each TLS program per
 * cookie, fixed here at load (ct_cookie_fixed); the verifier drops the helper call as dead code.
 */
const volatile __u8 ct_cookie_fixed = 0;
const volatile __u64 ct_fixed_cookie = 0;

static __always_inline __u64 ct_attach_cookie(void *ctx)
{
	return ct_cookie_fixed ? ct_fixed_cookie : bpf_get_attach_cookie(ctx);
}

/* The registers at the probe, on the stack: clang turns a switch over ctx fields into one load at
 * a variable ctx offset, which the verifier refuses ("dereference of modified ctx ptr"). */
struct ct_regs {
	__u64 word[32];
};

/* Index into struct pt_regs of each enum cleartap_reg. */
#define CT_PT_REG(field) (__builtin_offsetof(struct pt_regs, field) / 8)

static __always_inline __u64 ct_reg(const struct ct_regs *regs, __u32 reg)
{
	__u32 i;

	switch (reg & 15) {
	case 0:
		i = CT_PT_REG(ax);
		break;
	case 1:
		i = CT_PT_REG(bx);
		break;
	case 2:
		i = CT_PT_REG(cx);
		break;
	case 3:
		i = CT_PT_REG(dx);
		break;
	case 4:
		i = CT_PT_REG(si);
		break;
	case 5:
		i = CT_PT_REG(di);
		break;
	case 6:
		i = CT_PT_REG(bp);
		break;
	case 7:
		i = CT_PT_REG(sp);
		break;
	case 8:
		i = CT_PT_REG(r8);
		break;
	case 9:
		i = CT_PT_REG(r9);
		break;
	case 10:
		i = CT_PT_REG(r10);
		break;
	case 11:
		i = CT_PT_REG(r11);
		break;
	case 12:
		i = CT_PT_REG(r12);
		break;
	case 13:
		i = CT_PT_REG(r13);
		break;
	case 14:
		i = CT_PT_REG(r14);
		break;
	default:
		i = CT_PT_REG(r15);
		break;
	}
	return regs->word[i & 31];
}

SEC("uprobe")
int ct_tls_enter(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 cookie = ct_attach_cookie(ctx);
	__u32 func = CLEARTAP_COOKIE_FUNC(cookie);
	struct ct_ssl_state *state;
	struct ct_call call = {}, *slot;
	struct ct_regs regs;

	_Static_assert(sizeof(struct pt_regs) <= sizeof(regs), "pt_regs fits");
	if (bpf_probe_read_kernel(&regs, sizeof(struct pt_regs), ctx))
		return 0;
	switch (func) {
	case CLEARTAP_FN_SSL_SET_FD:
		state = ssl_state(pid_tgid, ct_reg(&regs, CLEARTAP_COOKIE_REG(cookie, 0)),
				  bpf_ktime_get_ns());
		if (state) {
			/* its connection too: the first reads may be served from OpenSSL's buffer
			 */
			state->fd = (int)ct_reg(&regs, CLEARTAP_COOKIE_REG(cookie, 1));
			state->conn_cookie = ct_sock_cookie(ct_fd_sock(state->fd));
		}
		return 0;
	case CLEARTAP_FN_SSL_FREE:
	case CLEARTAP_FN_GNUTLS_DEINIT:
	case CLEARTAP_FN_GO_CLOSE:
		ssl_free(pid_tgid, ct_reg(&regs, CLEARTAP_COOKIE_REG(cookie, 0)));
		return 0;
	case CLEARTAP_FN_SSL_WRITE:
	case CLEARTAP_FN_SSL_READ:
	case CLEARTAP_FN_SSL_WRITE_EX:
	case CLEARTAP_FN_SSL_READ_EX:
	case CLEARTAP_FN_GNUTLS_SEND:
	case CLEARTAP_FN_GNUTLS_RECV:
	case CLEARTAP_FN_GO_WRITE:
	case CLEARTAP_FN_GO_READ:
	case CLEARTAP_FN_GO_HANDSHAKE:
		break;
	default:
		return 0;
	}
	call.contract = CLEARTAP_COOKIE_CONTRACT(cookie);
	if (call.contract == CLEARTAP_CONTRACT_EX)
		call.len_ptr = ct_reg(&regs, CLEARTAP_COOKIE_REG(cookie, 2));
	call.ssl = ct_reg(&regs, CLEARTAP_COOKIE_REG(cookie, 0));
	call.buf = ct_reg(&regs, CLEARTAP_COOKIE_REG(cookie, 1));
	call.start_ns = bpf_ktime_get_ns();
	call.fd = -1;
	call.func = func;
	call.shared_exit = !!(cookie & CLEARTAP_COOKIE_SHARED);
	if (cookie & CLEARTAP_COOKIE_GOROUTINE) {
		struct ct_go_key key = {.tgid = pid_tgid >> 32, .g = CT_GO_G(ctx)};

		slot = bpf_map_lookup_elem(&ct_go_calls, &key);
		if (slot && slot->func && call.contract == CLEARTAP_CONTRACT_HANDSHAKE)
			return 0; /* inside a Read or Write: its syscalls are that call's */
		if (slot)
			*slot = call; /* the goroutine's slot (Go reuses g structures) */
		else if (bpf_map_update_elem(&ct_go_calls, &key, &call, BPF_ANY))
			ct_count(CLEARTAP_CNT_CALL_STATE_FULL, 1);
		return 0;
	}
	slot = bpf_map_lookup_elem(&ct_calls, &pid_tgid);
	if (slot)
		*slot = call; /* the thread's slot, in place: an LRU insert costs far more */
	else if (bpf_map_update_elem(&ct_calls, &pid_tgid, &call, BPF_ANY))
		ct_count(CLEARTAP_CNT_CALL_STATE_FULL, 1);
	return 0;
}

/* An SSL_write with no connection: the thread's next ciphertext write names its session. */
static __always_inline void await_bio_write(__u64 pid_tgid, struct ct_thread_bio *thread, __u64 ssl)
{
	struct ct_thread_bio fresh = {.write_ssl = ssl, .write_ns = bpf_ktime_get_ns()};

	if (!thread) {
		bpf_map_update_elem(&ct_thread_bio, &pid_tgid, &fresh, BPF_ANY);
		return;
	}
	thread->write_ssl = ssl;
	thread->write_ns = fresh.write_ns;
}

/*
 * A session with no connection yet, in a memory-BIO runtime (ct_bio_ties.bpf.h): tied by the
 * write that named it since, or by the thread's last ciphertext read; else a write waits for
 * the thread's next one. True when state now names the connection (call->fd set).
 */
static __always_inline bool bio_tie(__u64 pid_tgid, struct ct_call *call, __u8 direction,
				    struct ct_ssl_state *state)
{
	struct ct_ssl_key key = {.tgid = pid_tgid >> 32, .ssl = call->ssl};
	struct ct_bio_tie *tie = bpf_map_lookup_elem(&ct_bio_ties, &key);
	struct ct_thread_bio *thread = bpf_map_lookup_elem(&ct_thread_bio, &pid_tgid);

	if (tie) {
		state->fd = tie->fd;
		state->conn_cookie = tie->conn_cookie;
	} else if (thread && direction == CLEARTAP_DIR_READ && thread->read_cookie &&
		   thread->read_ns <= call->start_ns &&
		   call->start_ns - thread->read_ns < CT_BIO_WINDOW_NS) {
		state->fd = thread->read_fd;
		state->conn_cookie = thread->read_cookie;
	} else {
		if (direction == CLEARTAP_DIR_WRITE)
			await_bio_write(pid_tgid, thread, call->ssl);
		return false;
	}
	call->fd = state->fd;
	return true;
}

SEC("uprobe")
int ct_tls_return(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 cookie = ct_attach_cookie(ctx);
	__u32 shared = !!(cookie & CLEARTAP_COOKIE_SHARED);
	struct ct_ssl_state *state;
	struct ct_call *pending;
	struct ct_emit e = {};
	struct ct_call call;
	long rc = PT_REGS_RC(ctx);
	__u64 len;

	if (cookie & CLEARTAP_COOKIE_GOROUTINE) {
		struct ct_go_key key = {.tgid = pid_tgid >> 32, .g = CT_GO_G(ctx)};

		pending = bpf_map_lookup_elem(&ct_go_calls, &key);
	} else {
		pending = bpf_map_lookup_elem(&ct_calls, &pid_tgid);
	}
	/*
	 * An exit ends only the call its own entry began. A shared exit (an internal function)
	 * also returns inside callers with exits of their own, or that nothing probes: not a loss.
	 */
	if (!pending || !pending->func || pending->shared_exit != shared ||
	    (!shared && pending->func != CLEARTAP_COOKIE_FUNC(cookie))) {
		/* a handshake nested in a data call left that call pending: not a loss */
		if (!shared && CLEARTAP_COOKIE_CONTRACT(cookie) != CLEARTAP_CONTRACT_HANDSHAKE)
			ct_count(CLEARTAP_CNT_RETURN_WITHOUT_ENTRY, 1);
		return 0;
	}
	call = *pending;
	pending->func = 0; /* ended; the slot stays for the thread's next call */

	if (call.contract == CLEARTAP_CONTRACT_HANDSHAKE) {
		state = call.fd >= 0 ? ssl_state(pid_tgid, call.ssl, call.start_ns) : NULL;
		if (state) {
			state->fd = call.fd;
			state->conn_cookie = call.conn_cookie;
		}
		return 0;
	}

	if (call.contract == CLEARTAP_CONTRACT_EX) {
		/* SSL_*_ex return 1, their internal functions 1 as well on success */
		if ((int)rc <= 0 || bpf_probe_read_user(&len, sizeof(len), (void *)call.len_ptr))
			return 0;
	} else if (call.contract == CLEARTAP_CONTRACT_SSIZE) {
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
	     call.func == CLEARTAP_FN_GNUTLS_SEND || call.func == CLEARTAP_FN_GO_WRITE)
		? CLEARTAP_DIR_WRITE
		: CLEARTAP_DIR_READ;
	state = ssl_state(pid_tgid, call.ssl, call.start_ns);
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
	} else if (state && bio_tie(pid_tgid, &call, e.direction, state)) {
		e.conn_cookie = state->conn_cookie;
		e.flags = CLEARTAP_DATA_FD_FROM_BIO;
	} else {
		ct_count(CLEARTAP_CNT_FD_UNKNOWN, 1);
	}

	e.pid_tgid = pid_tgid;
	e.type = CLEARTAP_REC_TLS_DATA;
	e.ssl = call.ssl;
	e.buf = call.buf;
	e.start_ns = call.start_ns;
	e.call_len = len;
	e.captured_len = ct_call_cap(len);
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
