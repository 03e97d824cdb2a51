// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/*
 * What system calls tell (tp_btf/sys_enter and sys_exit: no tracefs needed):
 *
 *   - which socket a pending TLS library call reads or writes (its fd and connection);
 *   - the bytes of TCP connections that carry no TLS, copied like TLS plaintext into data
 *     records (CLEARTAP_DATA_PLAIN), so plain and decrypted traffic look the same downstream;
 *   - the first record each side of a TLS connection sends (the hellos), for handshake
 *     metadata. Ciphertext is never sent: a connection is classified by its first bytes;
 *   - a process opening a file named like a TLS library.
 *
 * Only connections whose open ct_sock_state saw are captured; the others are counted.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "ct_common.bpf.h"
#include "ct_emit.bpf.h"
#include "ct_sock.bpf.h"
#include "ct_sock_state.bpf.h"
#include "ct_syscalls.bpf.h"
#include "ct_tls_call.bpf.h"
#include "ct_bio_ties.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* readv/writev take at most UIO_MAXIOV segments; so does the walk over them. */
#define CT_MAX_IOV 1024

/*
 * A socket syscall between sys_enter and sys_exit, per thread. Like the TLS call slot
 * (ct_tls_call.bpf.h), each thread keeps its slot: sys_exit ends the call (active = 0) on every
 * path and the next sys_enter overwrites it in place, instead of an LRU insert and delete per
 * syscall.
 */
struct ct_sock_call {
	__u64 cookie; /* 0: a TCP connection cleartap did not see open (only counted) */
	__u64 buf;    /* the buffer, or the struct iovec array when vectored */
	__u64 count;  /* its size, or the number of iovecs */
	__u64 start_ns;
	__s32 fd;
	__u8 func;	/* enum cleartap_tls_func: CLEARTAP_FN_SYS_*; 0 for sendfile and splice */
	__u8 direction; /* enum cleartap_direction */
	__u8 vectored;
	__u8 active; /* between sys_enter and sys_exit */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct ct_sock_call);
} ct_sock_calls SEC(".maps");

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
	/* the collector wakes at once: the library is probed before its first call if it can be */
	bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
}

/* The part of struct user_msghdr that names the data. */
struct ct_user_msghdr {
	__u64 name;
	__u32 namelen;
	__u32 pad;
	__u64 iov;
	__u64 iovlen;
};

/*
 * Fill call from the syscall's arguments: false when it moves no socket data cleartap copies
 * (an unknown syscall, a peek: its bytes are read again by the real receive).
 */
static __always_inline bool decode_socket_syscall(struct pt_regs *regs, long id,
						  struct ct_sock_call *call)
{
	struct ct_user_msghdr msg;

	/*
	 * tp_btf hands regs as a BTF pointer: direct loads are inlined, where the _CORE_ variants
	 * call bpf_probe_read_kernel() for each argument (this runs on every socket syscall).
	 */
	call->fd = (int)PT_REGS_PARM1_SYSCALL(regs);
	call->buf = PT_REGS_PARM2_SYSCALL(regs);
	call->count = PT_REGS_PARM3_SYSCALL(regs);
	switch (id) {
	case CT_NR_read:
		call->func = CLEARTAP_FN_SYS_READ;
		call->direction = CLEARTAP_DIR_READ;
		return true;
	case CT_NR_write:
		call->func = CLEARTAP_FN_SYS_WRITE;
		call->direction = CLEARTAP_DIR_WRITE;
		return true;
	case CT_NR_readv:
		call->func = CLEARTAP_FN_SYS_READV;
		call->direction = CLEARTAP_DIR_READ;
		call->vectored = 1;
		return true;
	case CT_NR_writev:
		call->func = CLEARTAP_FN_SYS_WRITEV;
		call->direction = CLEARTAP_DIR_WRITE;
		call->vectored = 1;
		return true;
	case CT_NR_recvfrom:
		call->func = CLEARTAP_FN_SYS_RECVFROM;
		call->direction = CLEARTAP_DIR_READ;
		return !(PT_REGS_PARM4_SYSCALL(regs) & CT_MSG_PEEK);
	case CT_NR_sendto:
		call->func = CLEARTAP_FN_SYS_SENDTO;
		call->direction = CLEARTAP_DIR_WRITE;
		return true;
	case CT_NR_recvmsg:
	case CT_NR_sendmsg:
		if (id == CT_NR_recvmsg && (call->count & CT_MSG_PEEK))
			return false;
		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)call->buf))
			return false;
		call->func =
		    id == CT_NR_recvmsg ? CLEARTAP_FN_SYS_RECVMSG : CLEARTAP_FN_SYS_SENDMSG;
		call->direction = id == CT_NR_recvmsg ? CLEARTAP_DIR_READ : CLEARTAP_DIR_WRITE;
		call->buf = msg.iov;
		call->count = msg.iovlen;
		call->vectored = 1;
		return true;
	case CT_NR_sendfile: /* (out_fd, in_fd, offset, count): bytes never in user memory */
		call->direction = CLEARTAP_DIR_WRITE;
		return true;
	case CT_NR_splice: /* (fd_in, off_in, fd_out, ...): either end may be the socket */
		call->direction = CLEARTAP_DIR_READ;
		return true;
	default:
		return false;
	}
}

/*
 * Ciphertext moved outside any TLS call: a memory-BIO runtime's (ct_bio_ties.bpf.h). A read is
 * remembered for the thread's next SSL_read; a write names the session of the thread's last
 * SSL_write that had no connection.
 */
static __always_inline void note_bio_io(__u64 pid_tgid, const struct ct_sock_call *call,
					__u64 cookie)
{
	struct ct_thread_bio *thread = bpf_map_lookup_elem(&ct_thread_bio, &pid_tgid);

	if (call->direction == CLEARTAP_DIR_READ) {
		struct ct_thread_bio fresh = {
		    .read_cookie = cookie, .read_ns = bpf_ktime_get_ns(), .read_fd = call->fd};

		if (!thread) {
			bpf_map_update_elem(&ct_thread_bio, &pid_tgid, &fresh, BPF_ANY);
			return;
		}
		thread->read_cookie = cookie;
		thread->read_ns = fresh.read_ns;
		thread->read_fd = call->fd;
		return;
	}
	if (thread && thread->write_ssl &&
	    bpf_ktime_get_ns() - thread->write_ns < CT_BIO_WINDOW_NS) {
		struct ct_ssl_key key = {.tgid = pid_tgid >> 32, .ssl = thread->write_ssl};
		struct ct_bio_tie tie = {.conn_cookie = cookie, .fd = call->fd};

		bpf_map_update_elem(&ct_bio_ties, &key, &tie, BPF_NOEXIST);
		thread->write_ssl = 0;
	}
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ct_sys_enter, struct pt_regs *regs, long id)
{
	__u64 pid_tgid, cookie;
	struct ct_sock_call call = {}, *slot;
	struct ct_call *tls_call;
	bool wanted;
	struct ct_sock *state;
	struct sock *sk;

	if (id == CT_NR_openat) {
		ct_library_open(regs, bpf_get_current_pid_tgid());
		return 0;
	}
	if (!ct_is_socket_io_syscall(id))
		return 0;
	wanted = decode_socket_syscall(regs, id, &call);
	sk = ct_fd_sock(call.fd);
	if (!sk && id == CT_NR_splice) {
		call.fd = (int)PT_REGS_PARM3_SYSCALL(regs);
		call.direction = CLEARTAP_DIR_WRITE;
		sk = ct_fd_sock(call.fd);
	}
	cookie = ct_sock_cookie(sk);
	pid_tgid = bpf_get_current_pid_tgid();
	/* The first socket syscall inside a TLS call names its connection. */
	tls_call = bpf_map_lookup_elem(&ct_calls, &pid_tgid);
	if (tls_call && !tls_call->func)
		tls_call = NULL; /* the thread's last call has ended */
	if (!tls_call) {
		/* a Go call: its goroutine is in r14 at the syscall (ct_tls_call.bpf.h) */
		struct ct_go_key key = {.tgid = pid_tgid >> 32, .g = CT_GO_G(regs)};

		tls_call = bpf_map_lookup_elem(&ct_go_calls, &key);
		if (tls_call && !tls_call->func)
			tls_call = NULL;
	}
	/* a socket's: a runtime's other I/O inside the call (a pipe, a file) names nothing */
	if (tls_call && tls_call->fd < 0 && sk) {
		tls_call->fd = call.fd;
		tls_call->conn_cookie = cookie;
	}
	if (!wanted || !sk || BPF_CORE_READ(sk, sk_protocol) != CT_IPPROTO_TCP)
		return 0;
	state = cookie ? bpf_map_lookup_elem(&ct_socks, &cookie) : NULL;
	call.cookie = state ? cookie : 0;
	/* Inside a TLS call: ciphertext, whatever its first bytes were (STARTTLS). */
	if (tls_call && state)
		state->class = CT_SOCK_TLS;
	else if (state && state->class == CT_SOCK_TLS)
		note_bio_io(pid_tgid, &call, cookie);
	/* A TLS connection past both hellos has nothing more to say here. */
	if (state && state->class == CT_SOCK_TLS && state->hello[0] == CT_HELLO_DONE &&
	    state->hello[1] == CT_HELLO_DONE)
		return 0;
	call.start_ns = bpf_ktime_get_ns();
	call.active = 1;
	slot = bpf_map_lookup_elem(&ct_sock_calls, &pid_tgid);
	if (slot)
		*slot = call;
	else if (bpf_map_update_elem(&ct_sock_calls, &pid_tgid, &call, BPF_ANY))
		ct_count(CLEARTAP_CNT_CALL_STATE_FULL, 1);
	return 0;
}

/*
 * Walking the iovecs of a vectored call, one per loop iteration. Each is sent as a call of
 * its own at its stream position: the collector's chunk grid is per call, and an iovec's bytes
 * do not start on it.
 */
struct ct_iov_walk {
	struct ct_emit e;
	__u64 iov;
	__u64 stream_offset; /* of the syscall's first byte */
	__u64 moved, captured, done;
	__u32 last; /* bounded loops: the last iovec told, which carries the rest of the call */
};

static long emit_iov(__u32 index, void *ctx)
{
	struct ct_iov_walk *w = ctx;
	struct iovec iov;
	__u64 seg_moved, seg;

	if (w->done >= w->captured)
		return 1;
	if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(w->iov + index * sizeof(iov)))) {
		ct_count(CLEARTAP_CNT_DROP_READ_FAULT, 1);
		ct_count(CLEARTAP_CNT_DROP_READ_FAULT_BYTES, w->captured - w->done);
		return 1;
	}
	seg_moved = w->moved - w->done;
	if (iov.iov_len < seg_moved && index != w->last)
		seg_moved = iov.iov_len;
	seg = w->captured - w->done < seg_moved ? w->captured - w->done : seg_moved;
	if (seg > iov.iov_len) {
		/* past the bound: the rest of the call is told as this record's truncation */
		if (w->captured == w->moved)
			ct_count(CLEARTAP_CNT_TRUNCATED_CALLS, 1);
		ct_count(CLEARTAP_CNT_TRUNCATED_BYTES, seg - iov.iov_len);
		seg = iov.iov_len;
	}
	w->e.buf = (__u64)iov.iov_base;
	w->e.stream_offset = w->stream_offset + w->done;
	w->e.call_len = seg_moved;
	w->e.seg_len = seg;
	w->e.captured_len = seg;
	if (w->e.seg_len)
		ct_emit_segment(&w->e);
	w->done += seg_moved;
	return 0;
}

/* Copy the first e->captured_len of the e->call_len bytes the call moved. */
static __always_inline void emit_call(const struct ct_sock_call *call, struct ct_emit *e)
{
	struct ct_iov_walk w;

	if (!call->vectored) {
		e->buf = call->buf;
		e->seg_len = e->captured_len;
		ct_emit_segment(e);
		return;
	}
	w.e = *e;
	w.iov = call->buf;
	w.stream_offset = e->stream_offset;
	w.moved = e->call_len;
	w.captured = e->captured_len;
	w.done = 0;
#ifdef CT_BOUNDED_LOOPS
	if (!call->count)
		return;
	w.last =
	    (call->count < CLEARTAP_BOUNDED_MAX_IOV ? call->count : CLEARTAP_BOUNDED_MAX_IOV) - 1;
	for (__u32 i = 0; i < CLEARTAP_BOUNDED_MAX_IOV; i++)
		if (i > w.last || emit_iov(i, &w))
			break;
#else
	w.last = ~0u;
	bpf_loop(call->count < CT_MAX_IOV ? call->count : CT_MAX_IOV, emit_iov, &w, 0);
#endif
}

/* Up to 5 leading bytes of what the call moved: enough for a TLS record header. */
static __always_inline __u32 leading_bytes(const struct ct_sock_call *call, __u64 moved,
					   __u8 out[5])
{
	struct iovec iov = {.iov_base = (void *)call->buf, .iov_len = moved};
	__u64 n;

	if (call->vectored &&
	    (call->count == 0 || bpf_probe_read_user(&iov, sizeof(iov), (void *)call->buf)))
		return 0;
	n = iov.iov_len < moved ? iov.iov_len : moved;
	if (n > 5)
		n = 5;
	if (n == 0 || bpf_probe_read_user(out, n & 7, iov.iov_base))
		return 0;
	return n;
}

/*
 * A direction of a TLS connection carries its first bytes, at stream offset `offset`, starting
 * with head[0..n): if they start a handshake record, send up to its end (the header names its
 * length), at most CLEARTAP_HELLO_MAX.
 */
static __always_inline void hello_begin(struct ct_sock *state, __u8 dir, __u64 offset,
					const __u8 head[5], __u32 n)
{
	__u64 len = CLEARTAP_HELLO_MAX;
	if (n == 0 || head[0] != 0x16) {
		state->hello[dir] = CT_HELLO_DONE;
		return;
	}
	if (n == 5 && 5 + ((__u64)head[3] << 8 | head[4]) < len)
		len = 5 + ((__u64)head[3] << 8 | head[4]);
	state->hello_end[dir] = offset + len;
	state->hello[dir] = CT_HELLO_OPEN;
}

/* Classify a connection by its first bytes: a TLS record header, or the application's. */
static __always_inline __u8 classify(const __u8 head[5], __u32 n)
{
	/* 0x16 0x03: a handshake record of SSL 3.0 to TLS 1.3 */
	if (n >= 1 && head[0] == 0x16 && (n == 1 || head[1] == 0x03))
		return CT_SOCK_TLS;
	return CT_SOCK_PLAIN;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ct_sys_exit, struct pt_regs *regs, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct ct_sock_call *pending, call;
	struct ct_emit e = {};
	struct ct_sock *state;
	__u64 moved, offset, hello_len = 0;
	__u8 dir, head[5] = {};
	__u32 n = 0;

	/* Every syscall on the host exits here: only those sys_enter may have remembered look. */
	if (!ct_is_socket_io_syscall(CT_SYSCALL_NR(regs)))
		return 0;
	pending = bpf_map_lookup_elem(&ct_sock_calls, &pid_tgid);
	if (!pending || !pending->active)
		return 0;
	call = *pending;
	pending->active = 0;
	if (ret <= 0)
		return 0;
	moved = (__u64)ret;
	if (!call.cookie) {
		ct_count(CLEARTAP_CNT_UNTRACKED_CALLS, 1);
		ct_count(CLEARTAP_CNT_UNTRACKED_BYTES, moved);
		return 0;
	}
	state = bpf_map_lookup_elem(&ct_socks, &call.cookie);
	if (!state)
		return 0; /* closed meanwhile */
	dir = call.direction & 1;
	offset = state->offset[dir];
	state->offset[dir] = offset + moved;
	if (!call.func) {
		/* sendfile/splice: the stream moves on by bytes that cannot be read here */
		if (state->class != CT_SOCK_TLS)
			ct_count(CLEARTAP_CNT_UNCOPIED_BYTES, moved);
		return 0;
	} /* the first bytes of the connection, or of this direction of a TLS one: read once */
	if (state->class == CT_SOCK_UNKNOWN ||
	    (state->class == CT_SOCK_TLS && state->hello[dir] == CT_HELLO_UNKNOWN))
		n = leading_bytes(&call, moved, head);
	if (state->class == CT_SOCK_UNKNOWN)
		state->class = classify(head, n);
	if (state->class == CT_SOCK_TLS) {
		if (state->hello[dir] == CT_HELLO_UNKNOWN)
			hello_begin(state, dir, offset, head, n);
		if (state->hello[dir] != CT_HELLO_OPEN)
			return 0;
		hello_len = state->hello_end[dir] > offset ? state->hello_end[dir] - offset : 0;
		if (hello_len > moved)
			hello_len = moved;
		if (offset + moved >= state->hello_end[dir])
			state->hello[dir] = CT_HELLO_DONE;
		if (!hello_len)
			return 0;
		e.type = CLEARTAP_REC_TLS_HELLO;
		e.flags = CLEARTAP_DATA_FD_FROM_SYSCALL;
		e.captured_len = hello_len;
		ct_count(CLEARTAP_CNT_HELLO_BYTES, hello_len);
	} else {
		e.type = CLEARTAP_REC_TLS_DATA;
		e.flags = CLEARTAP_DATA_FD_FROM_SYSCALL | CLEARTAP_DATA_PLAIN;
		e.captured_len = ct_call_cap(moved);
		ct_count(CLEARTAP_CNT_CALLS, 1);
		ct_count(CLEARTAP_CNT_CALL_BYTES, moved);
		ct_count(CLEARTAP_CNT_PLAIN_CALLS, 1);
		ct_count(CLEARTAP_CNT_PLAIN_BYTES, moved);
		if (e.captured_len < moved) {
			ct_count(CLEARTAP_CNT_TRUNCATED_CALLS, 1);
			ct_count(CLEARTAP_CNT_TRUNCATED_BYTES, moved - e.captured_len);
		}
	}
	e.pid_tgid = pid_tgid;
	e.session_id = call.cookie;
	e.conn_cookie = call.cookie;
	e.stream_offset = offset;
	e.start_ns = call.start_ns;
	e.call_len = e.type == CLEARTAP_REC_TLS_HELLO ? hello_len : moved;
	e.fd = call.fd;
	e.direction = dir;
	e.func = call.func;
	emit_call(&call, &e);
	return 0;
}
