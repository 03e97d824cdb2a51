// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/*
 * TCP connections opening and closing, from the inet_sock_set_state tracepoint (tp_btf: needs
 * no tracefs). Gives every connection its socket cookie, which data records name, and the state
 * (ct_socks) the socket syscalls keep: only connections opened here are captured from syscalls.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "ct_common.bpf.h"
#include "ct_sock.bpf.h"
#include "ct_sock_state.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define CT_AF_INET  2
#define CT_AF_INET6 10

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(ct_sock_state, struct sock *sk, int oldstate, int newstate)
{
	struct cleartap_conn *rec;
	__u8 event, role = 0;
	__u16 family;
	__u64 cookie;
	void *ring;

	if (BPF_CORE_READ(sk, sk_protocol) != CT_IPPROTO_TCP)
		return 0;
	if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_SENT) {
		event = CLEARTAP_CONN_OPEN;
		role = CLEARTAP_ROLE_CLIENT;
	} else if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_RECV) {
		event = CLEARTAP_CONN_OPEN;
		role = CLEARTAP_ROLE_SERVER;
	} else if (newstate == TCP_CLOSE && oldstate != TCP_SYN_SENT && oldstate != TCP_LISTEN) {
		event = CLEARTAP_CONN_CLOSE;
	} else {
		return 0;
	}
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != CT_AF_INET && family != CT_AF_INET6)
		return 0;
	/*
	 * Creates the cookie at open, so data records can read it from the socket later. The map
	 * keys are stack copies: kernels before 6.2 refuse ring buffer memory as one.
	 */
	if (!ct_sock_ids_made) {
		cookie = bpf_get_socket_cookie(sk);
	} else if (event == CLEARTAP_CONN_OPEN) {
		__u64 key = (__u64)sk;

		/* unique without shared state: a CPU opens at most one per nanosecond */
		cookie = (bpf_ktime_get_ns() << 8) | (bpf_get_smp_processor_id() & 0xff);
		bpf_map_update_elem(&ct_sock_ids, &key, &cookie, BPF_ANY);
	} else {
		__u64 key = (__u64)sk, *id = bpf_map_lookup_elem(&ct_sock_ids, &key);

		if (!id)
			return 0; /* it opened before cleartap: nothing to tell */
		cookie = *id;
		bpf_map_delete_elem(&ct_sock_ids, &key);
	}
	ring = ct_ring_for_this_cpu();
	if (!ring) {
		ct_count(CLEARTAP_CNT_NO_RING, 1);
		return 0;
	}
	rec = bpf_ringbuf_reserve(ring, sizeof(*rec), 0);
	if (!rec) {
		ct_count(CLEARTAP_CNT_DROP_CONN, 1);
		return 0;
	}
	/* Softirq context for a server's accept: the pid is whoever was running, not meaningful. */
	ct_fill_header(&rec->hdr, CLEARTAP_REC_CONN, sizeof(*rec), bpf_get_current_pid_tgid());
	rec->cookie = cookie;
	rec->family = family;
	rec->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
	rec->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	__builtin_memset(rec->local_addr, 0, sizeof(rec->local_addr));
	__builtin_memset(rec->remote_addr, 0, sizeof(rec->remote_addr));
	if (family == CT_AF_INET) {
		__be32 local = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__be32 remote = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		__builtin_memcpy(rec->local_addr, &local, 4);
		__builtin_memcpy(rec->remote_addr, &remote, 4);
	} else {
		BPF_CORE_READ_INTO(&rec->local_addr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&rec->remote_addr, sk, __sk_common.skc_v6_daddr);
	}
	rec->role = role;
	rec->event = event;
	rec->stream_length[0] = rec->stream_length[1] = 0;
	if (event == CLEARTAP_CONN_OPEN) {
		struct ct_sock fresh = {};

		bpf_map_update_elem(&ct_socks, &cookie, &fresh, BPF_ANY);
	} else {
		struct ct_sock *state = bpf_map_lookup_elem(&ct_socks, &cookie);

		/* the plain streams' lengths: what was lost after the last captured byte shows */
		if (state && state->class == CT_SOCK_PLAIN) {
			rec->stream_length[0] = state->offset[0];
			rec->stream_length[1] = state->offset[1];
		}
		bpf_map_delete_elem(&ct_socks, &cookie);
	}
	rec->bytes_sent = 0;
	rec->bytes_received = 0;
	if (event == CLEARTAP_CONN_CLOSE) {
		struct tcp_sock *tp = (struct tcp_sock *)sk;

		if (bpf_core_field_exists(tp->bytes_sent))
			rec->bytes_sent = BPF_CORE_READ(tp, bytes_sent);
		rec->bytes_received = BPF_CORE_READ(tp, bytes_received);
	}
	bpf_ringbuf_submit(rec, ct_submit_flags(ring));
	return 0;
}
