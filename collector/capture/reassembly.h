/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Chunk reassembly. Kernel data records arrive per chunk, possibly from several ring shards and
 * with some lost. This module turns them into ordered, contiguous segments per stream
 * (tgid, session, direction), each saying exactly which bytes before it are missing. It never
 * invents bytes. No I/O: segments go to a callback.
 */
#ifndef CT_REASSEMBLY_H
#define CT_REASSEMBLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleartap/events.h"

struct reasm_segment {
	uint32_t tgid, tid;
	char comm[CLEARTAP_COMM_LEN];
	uint64_t session;
	uint64_t conn_cookie; /* 0 when the socket is unknown */
	int32_t fd;
	uint8_t direction, func, flags;
	uint64_t call_start_ns, time_ns; /* CLOCK_MONOTONIC */
	uint64_t stream_offset;		 /* of data[0] */
	const uint8_t *data;
	size_t len;
	uint64_t call_len, call_offset;
	uint64_t gap_before; /* stream bytes missing right before data */
	uint64_t truncated;  /* call bytes beyond the capture cap, right after data */
};

struct reasm_session_end {
	uint32_t tgid, tid;
	char comm[CLEARTAP_COMM_LEN];
	uint64_t session, bytes_written, bytes_read, time_ns;
	uint64_t ssl;	    /* 0: a plain TCP connection ended */
	bool lengths_known; /* bytes_written/read are the streams' lengths (SSL_free, a plain close)
			     */
};

struct reasm_ops {
	void (*segment)(void *userdata, const struct reasm_segment *segment);
	void (*session_end)(void *userdata, const struct reasm_session_end *end);
};

struct reasm_counters {
	uint64_t segments, segment_bytes, gap_bytes, partial_calls, evicted_calls;
	uint64_t duplicate_chunks, malformed_chunks, sessions_ended;
	uint64_t refused_chunks; /* dropped: no memory within the budget (told as gaps) */
	uint64_t idle_sessions;	 /* ended after idle_ns without a call or an end */
};

struct reasm_config {
	uint32_t max_call_bytes;	   /* largest captured_len accepted (the loader's cap) */
	uint64_t max_pending_bytes;	   /* memory for incomplete calls before they are flushed */
	uint64_t max_stream_pending_bytes; /* the same for one stream (0: max_pending_bytes) */
	/*
	 * How long a call waits for missing chunks or an earlier call before it is emitted with a
	 * gap. Ring shards drain independently and libbpf stops at a record a preempted probe has
	 * reserved but not yet committed, so calls can arrive out of order by tens of ms.
	 */
	uint64_t hold_ns;
	uint64_t idle_ns; /* a session without calls this long ends (0: 5 minutes) */
};

#define REASM_DEFAULT_IDLE_NS (300ULL * 1000000000ULL)

struct reasm;

int reasm_new(const struct reasm_config *config, const struct reasm_ops *ops, void *userdata,
	      struct reasm **ret);
void reasm_free(struct reasm *r);

/* One validated data record (header + payload). -EBADMSG if inconsistent (counted). */
int reasm_add_chunk(struct reasm *r, const struct cleartap_tls_data *rec);

/* SSL_free: both streams of the session end once their last chunks had time to arrive. */
void reasm_end_session(struct reasm *r, const struct cleartap_tls_free *rec);

/* The same for any pair of streams (a plain TCP connection closed: end->ssl is 0). */
void reasm_end_streams(struct reasm *r, const struct reasm_session_end *end);

/*
 * The process exited: every session it still had ends (Node, wget and processes that exit call
 * no SSL_free), so a response framed by the connection's close completes now, not at exit.
 */
void reasm_end_process(struct reasm *r, uint32_t tgid, uint64_t time_ns);

/*
 * The TCP connection a TLS session ran on closed: the session ends now for reassembly and HTTP
 * (a response framed by the close completes), though its SSL_free may come later or never.
 */
void reasm_end_connection(struct reasm *r, uint32_t tgid, uint64_t session, uint64_t time_ns);

/* End of one drain round over every ring (now_ns: CLOCK_MONOTONIC): emit what is complete or
 * has waited hold_ns. Chunks added after this are considered to have arrived at now_ns. */
void reasm_tick(struct reasm *r, uint64_t now_ns);

/* Emit everything pending now, whatever is missing (at exit). */
void reasm_flush_all(struct reasm *r);

const struct reasm_counters *reasm_counters(const struct reasm *r);

#endif
