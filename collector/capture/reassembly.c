/* SPDX-License-Identifier: Apache-2.0 */
#include "reassembly.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "id_table.h"
#include "memory_budget.h"
#include "record_decode.h"

#define CHUNK CLEARTAP_CHUNK_MAX

struct call {
	uint64_t stream_offset, call_len;
	uint32_t captured_len, n_chunks, received_chunks;
	uint32_t tid;
	int32_t fd;
	uint64_t conn_cookie;
	uint8_t func, flags;
	char comm[CLEARTAP_COMM_LEN];
	uint64_t call_start_ns, time_ns;
	uint64_t order_ns; /* record_order_time(): how the two directions are released */
	uint64_t arrival_ns;
	uint64_t *received; /* bitmap of chunks, in the same allocation */
	uint8_t *data;	    /* captured_len bytes, after the bitmap */
	uint64_t storage[]; /* one allocation per call: the call, its bitmap, its bytes */
};

struct stream {
	struct id_node node;			  /* key: hash_key() of tgid, session, direction */
	struct stream *active_prev, *active_next; /* on the active list while it has calls */
	uint32_t tgid;
	uint8_t direction;
	uint64_t session;
	bool positioned;      /* next_offset is known */
	uint64_t next_offset; /* first stream byte not yet accounted for */
	uint64_t carried_gap; /* bytes lost at the end of an emitted call, told on the next one */
	uint64_t released_ns; /* time of the last call released */
	uint64_t last_ns;
	uint64_t pending_bytes; /* captured bytes of its calls held */
	bool ending;
	bool closed;	/* ended with its connection: kept, quiet, for SSL_free's lengths */
	bool keep;	/* this ending is the connection's close (see closed) */
	bool tells_end; /* its end is the session's: the write stream, or a lone read stream */
	uint64_t end_ns;
	struct reasm_session_end end; /* valid when ending (direction WRITE stream carries it) */
	/*
	 * Its pending calls by stream_offset, ascending: calls[first .. first + n_calls). Found by
	 * binary search; nearly every new call goes at the end (a pass is in time order), and the
	 * first leaves first, so both ends are O(1).
	 */
	struct call **calls;
	uint32_t first, n_calls, cap_calls;
};

static struct call *first_call(const struct stream *s)
{
	return s->n_calls ? s->calls[s->first] : NULL;
}

static struct call *pop_first_call(struct stream *s)
{
	struct call *c = s->calls[s->first];

	s->n_calls--;
	s->first = s->n_calls ? s->first + 1 : 0;
	return c;
}

/* The index (from first) of the first call at or after offset. */
static uint32_t call_position(const struct stream *s, uint64_t offset)
{
	uint32_t lo = 0, hi = s->n_calls;

	if (hi && s->calls[s->first + hi - 1]->stream_offset < offset)
		return hi; /* past the last: the common case */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->calls[s->first + mid]->stream_offset < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Put c at position pos (from first). -ENOMEM. */
static int insert_call(struct stream *s, uint32_t pos, struct call *c)
{
	if (s->first + s->n_calls == s->cap_calls) {
		if (s->first) { /* room at the front: slide down */
			memmove(s->calls, s->calls + s->first, s->n_calls * sizeof(*s->calls));
			s->first = 0;
		} else {
			uint32_t cap = s->cap_calls ? s->cap_calls * 2 : 4;
			struct call **calls = ct_mem_realloc(NULL, s->calls, cap * sizeof(*calls));

			if (!calls)
				return -ENOMEM;
			s->calls = calls;
			s->cap_calls = cap;
		}
	}
	memmove(s->calls + s->first + pos + 1, s->calls + s->first + pos,
		(s->n_calls - pos) * sizeof(*s->calls));
	s->calls[s->first + pos] = c;
	s->n_calls++;
	return 0;
}

struct reasm {
	struct reasm_config config;
	struct reasm_ops ops;
	void *userdata;
	struct reasm_counters counters;
	struct id_table streams;
	struct stream active;	   /* list head */
	uint64_t now_ns, swept_ns; /* swept_ns: when idle streams were last looked for */
	uint64_t pending_bytes;
};

static uint64_t hash_key(uint32_t tgid, uint64_t session, uint8_t direction)
{
	uint64_t h = session ^ ((uint64_t)tgid << 1) ^ direction;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

int reasm_new(const struct reasm_config *config, const struct reasm_ops *ops, void *userdata,
	      struct reasm **ret)
{
	struct reasm *r = ct_mem_zalloc(NULL, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->config = *config;
	if (!r->config.max_stream_pending_bytes)
		r->config.max_stream_pending_bytes = r->config.max_pending_bytes;
	if (!r->config.idle_ns)
		r->config.idle_ns = REASM_DEFAULT_IDLE_NS;
	if (!r->config.hold_ns)
		r->config.hold_ns = 250ULL * 1000000;
	r->ops = *ops;
	r->userdata = userdata;
	if (id_table_init(&r->streams, 1024) < 0) {
		ct_mem_free(NULL, r);
		return -ENOMEM;
	}
	r->active.active_next = r->active.active_prev = &r->active;
	*ret = r;
	return 0;
}

static void call_free(struct reasm *r, struct stream *s, struct call *c)
{
	r->pending_bytes -= c->captured_len;
	s->pending_bytes -= c->captured_len;
	ct_mem_free(NULL, c);
}

static void active_add(struct reasm *r, struct stream *s)
{
	if (s->active_next)
		return;
	s->active_next = &r->active;
	s->active_prev = r->active.active_prev;
	r->active.active_prev->active_next = s;
	r->active.active_prev = s;
}

static void active_remove(struct stream *s)
{
	if (!s->active_next)
		return;
	s->active_prev->active_next = s->active_next;
	s->active_next->active_prev = s->active_prev;
	s->active_next = s->active_prev = NULL;
}

static struct stream *stream_get(struct reasm *r, uint32_t tgid, uint64_t session,
				 uint8_t direction, bool create)
{
	uint64_t key = hash_key(tgid, session, direction);
	struct stream *s;

	for (struct id_node *n = id_table_find(&r->streams, key); n; n = id_table_find_next(n)) {
		s = id_entry(n, struct stream, node);
		if (s->tgid == tgid && s->session == session && s->direction == direction)
			return s;
	}
	if (!create)
		return NULL;
	s = ct_mem_zalloc(NULL, sizeof(*s));
	if (!s)
		return NULL;
	s->tgid = tgid;
	s->session = session;
	s->direction = direction;
	s->node.key = key;
	id_table_insert(&r->streams, &s->node);
	return s;
}

static void stream_remove(struct reasm *r, struct stream *s)
{
	id_table_remove(&r->streams, &s->node);
	active_remove(s);
	r->counters.gap_bytes += s->carried_gap;
	ct_mem_free(NULL, s->calls);
	ct_mem_free(NULL, s);
}

static bool chunk_received(const struct call *c, uint32_t i)
{
	return c->received[i / 64] & (1ULL << (i % 64));
}

static void emit(struct reasm *r, struct stream *s, const struct call *c, uint32_t first,
		 uint32_t end, uint64_t gap_before)
{
	uint64_t from = (uint64_t)first * CHUNK;
	uint64_t to =
	    (uint64_t)end * CHUNK < c->captured_len ? (uint64_t)end * CHUNK : c->captured_len;
	struct reasm_segment seg = {
	    .tgid = s->tgid,
	    .tid = c->tid,
	    .session = s->session,
	    .conn_cookie = c->conn_cookie,
	    .fd = c->fd,
	    .direction = s->direction,
	    .func = c->func,
	    .flags = c->flags,
	    .call_start_ns = c->call_start_ns,
	    .time_ns = c->time_ns,
	    .stream_offset = c->stream_offset + from,
	    .data = c->data + from,
	    .len = to - from,
	    .call_len = c->call_len,
	    .call_offset = from,
	    .gap_before = gap_before,
	    .truncated = to == c->captured_len ? c->call_len - c->captured_len : 0,
	};

	memcpy(seg.comm, c->comm, sizeof(seg.comm));
	r->counters.segments++;
	r->counters.segment_bytes += seg.len;
	r->counters.gap_bytes += gap_before;
	r->ops.segment(r->userdata, &seg);
}

/* Emit every received run of chunks of c; what is missing is told as the next run's gap. */
static void emit_call(struct reasm *r, struct stream *s, struct call *c)
{
	uint64_t gap = s->carried_gap;
	uint32_t i = 0;

	if (!s->positioned)
		gap += c->stream_offset; /* capture began mid-stream */
	else if (c->stream_offset > s->next_offset)
		gap += c->stream_offset - s->next_offset;
	if (c->received_chunks != c->n_chunks)
		r->counters.partial_calls++;
	while (i < c->n_chunks) {
		uint32_t first;

		if (!chunk_received(c, i)) {
			uint64_t to = (uint64_t)(i + 1) * CHUNK;

			gap += (to < c->captured_len ? to : c->captured_len) - (uint64_t)i * CHUNK;
			i++;
			continue;
		}
		first = i;
		while (i < c->n_chunks && chunk_received(c, i))
			i++;
		emit(r, s, c, first, i, gap);
		gap = 0;
	}
	/* Missing tail chunks, and the truncated tail when its last chunk is missing. */
	if (!chunk_received(c, c->n_chunks - 1))
		gap += c->call_len - c->captured_len;
	s->carried_gap = gap;
	s->positioned = true;
	s->released_ns = c->order_ns;
	if (c->stream_offset + c->call_len > s->next_offset)
		s->next_offset = c->stream_offset + c->call_len;
}

static bool in_order(const struct stream *s, const struct call *c)
{
	return s->positioned ? c->stream_offset <= s->next_offset : c->stream_offset == 0;
}

/* The head call of s can go: it is complete and next in its stream, or waited long enough. */
static bool releasable(const struct reasm *r, const struct stream *s, const struct call *c)
{
	return (c->received_chunks == c->n_chunks && in_order(s, c)) ||
	       r->now_ns - c->arrival_ns >= r->config.hold_ns;
}

/*
 * When the next thing s has to release happened. Behind a hole that is unknown: the missing
 * call may have happened right after the last call s released.
 */
static uint64_t next_time(const struct stream *s)
{
	if (!s || !s->n_calls)
		return UINT64_MAX;
	return in_order(s, first_call(s)) ? first_call(s)->order_ns : s->released_ns;
}

/*
 * Release the calls of both directions of s's session in time order. The consumer pairs
 * requests with responses, so a direction waiting for a hole holds back the other direction's
 * later calls too: the earliest pending call goes first or nothing does.
 */
static void stream_flush(struct reasm *r, struct stream *s, bool force)
{
	struct stream *other = stream_get(r, s->tgid, s->session, !s->direction, false);

	for (;;) {
		struct stream *next = next_time(other) < next_time(s) ? other : s;
		struct call *c;

		if (!next || !next->n_calls)
			break;
		c = first_call(next);
		if (!force && !releasable(r, next, c))
			break;
		pop_first_call(next);
		emit_call(r, next, c);
		call_free(r, next, c);
	}
	/* Only s leaves the active list here: callers may be iterating it, next to other. */
	if (!s->n_calls && !s->ending)
		active_remove(s);
}

/* What a call's first record says of it (its chunks say the same, checked on arrival). */
static void call_describe(struct call *c, const struct cleartap_tls_data *rec, uint64_t now_ns)
{
	c->stream_offset = rec->stream_offset;
	c->call_len = rec->call_len;
	c->captured_len = rec->captured_len;
	c->tid = rec->hdr.tid;
	c->fd = rec->fd;
	c->conn_cookie = rec->conn_cookie;
	c->func = rec->func;
	c->flags = rec->flags;
	memcpy(c->comm, rec->comm, sizeof(c->comm));
	c->comm[sizeof(c->comm) - 1] = '\0';
	c->call_start_ns = rec->call_start_ns;
	c->time_ns = rec->hdr.timestamp_ns;
	c->order_ns = record_order_time(rec);
	c->arrival_ns = now_ns;
}

/*
 * A call in one chunk, next in its stream, with nothing pending in its session either way:
 * stream_flush() would release it at once, so it goes out straight from the record, without a
 * copy into a call of its own (an allocation, a copy and a free per record were a tenth of the
 * collector's instructions). False when it must wait like any other.
 */
static bool release_whole_call(struct reasm *r, struct stream *s,
			       const struct cleartap_tls_data *rec)
{
	struct stream *other = stream_get(r, s->tgid, s->session, !s->direction, false);
	uint64_t received = 1;
	struct call view = {.n_chunks = 1,
			    .received_chunks = 1,
			    .received = &received,
			    .data = (uint8_t *)rec->payload};

	call_describe(&view, rec, r->now_ns);
	if ((other && other->n_calls) || !in_order(s, &view))
		return false;
	if (view.order_ns > view.time_ns) /* as its chunk's arrival in reasm_add_chunk() would */
		view.order_ns = view.time_ns;
	emit_call(r, s, &view);
	if (!s->ending)
		active_remove(s);
	return true;
}

int reasm_add_chunk(struct reasm *r, const struct cleartap_tls_data *rec)
{
	uint32_t expect_len, index, pos;
	struct call *c;
	struct stream *s;

	if (rec->direction > CLEARTAP_DIR_READ || rec->captured_len == 0 ||
	    rec->captured_len > rec->call_len || rec->captured_len > r->config.max_call_bytes ||
	    rec->chunk_offset % CHUNK || rec->chunk_offset >= rec->captured_len)
		goto malformed;
	expect_len = rec->captured_len - rec->chunk_offset;
	if (expect_len > CHUNK)
		expect_len = CHUNK;
	if (rec->chunk_len != expect_len)
		goto malformed;

	s = stream_get(r, rec->hdr.tgid, rec->session_id, rec->direction, true);
	if (!s) {
		r->counters.refused_chunks++; /* its bytes are told as a gap where known */
		return -ENOMEM;
	}
	/*
	 * A chunk of an ending session is a late chunk, not a new session: SSL_free's record may
	 * be drained from one ring before the session's last data from another, and session ids
	 * are never reused. The stream ends hold_ns after its end was seen.
	 */

	s->last_ns = r->now_ns;
	s->closed = false; /* data after its connection's close: it lives on, to end again */
	if (!s->n_calls && rec->chunk_offset == 0 && rec->chunk_len == rec->captured_len &&
	    release_whole_call(r, s, rec))
		return 0;
	/* 40 000 calls behind one hole walked a list each (3.1 s); now a binary search */
	pos = call_position(s, rec->stream_offset);
	c = pos < s->n_calls ? s->calls[s->first + pos] : NULL;
	if (c && c->stream_offset == rec->stream_offset) {
		if (c->call_len != rec->call_len || c->captured_len != rec->captured_len)
			goto malformed;
	} else {
		/* over the collector's or the stream's share: what it holds goes out, with gaps */
		if ((r->pending_bytes + rec->captured_len > r->config.max_pending_bytes ||
		     s->pending_bytes + rec->captured_len > r->config.max_stream_pending_bytes) &&
		    s->n_calls) {
			r->counters.evicted_calls++;
			stream_flush(r, s, true);
			return reasm_add_chunk(r, rec);
		}
		{
			uint32_t n_chunks = (rec->captured_len + CHUNK - 1) / CHUNK;
			size_t words = (n_chunks + 63) / 64;

			/* captured_len <= max_call_bytes (checked above): no overflow */
			c = ct_mem_alloc(NULL,
					 sizeof(*c) + words * sizeof(uint64_t) + rec->captured_len);
			if (!c && s->n_calls) { /* the memory budget: make room from this stream */
				r->counters.evicted_calls++;
				stream_flush(r, s, true);
				return reasm_add_chunk(r, rec);
			}
			if (!c) {
				r->counters.refused_chunks++;
				return -ENOMEM;
			}
			memset(c, 0, sizeof(*c) + words * sizeof(uint64_t));
			c->n_chunks = n_chunks;
			c->received = c->storage;
			c->data = (uint8_t *)(c->storage + words);
		}
		call_describe(c, rec, r->now_ns);
		if (insert_call(s, pos, c) < 0) {
			ct_mem_free(NULL, c);
			r->counters.refused_chunks++;
			return -ENOMEM;
		}
		r->pending_bytes += c->captured_len;
		s->pending_bytes += c->captured_len;
		active_add(r, s);
	}
	index = rec->chunk_offset / CHUNK;
	if (chunk_received(c, index)) {
		r->counters.duplicate_chunks++;
		return 0;
	}
	c->received[index / 64] |= 1ULL << (index % 64);
	c->received_chunks++;
	memcpy(c->data + rec->chunk_offset, rec->payload, rec->chunk_len);
	if (rec->hdr.timestamp_ns < c->time_ns)
		c->time_ns = rec->hdr.timestamp_ns;
	if (c->order_ns > c->time_ns)
		c->order_ns = c->time_ns;
	if (c->received_chunks == c->n_chunks && c == first_call(s))
		stream_flush(r, s, false);
	return 0;

malformed:
	r->counters.malformed_chunks++;
	return -EBADMSG;
}

/*
 * The loss after the last byte a stream released, told as an empty segment at its end:
 * the untold tail of its last call, and (length, 0 when unknown) what the kernel counted on the
 * stream past that, lost entirely (ring full after the last captured chunk, say).
 */
static void emit_tail_gap(struct reasm *r, struct stream *s, uint64_t length)
{
	static const uint8_t nothing[1];
	uint64_t accounted = s->positioned ? s->next_offset : 0;
	uint64_t gap = s->carried_gap + (length > accounted ? length - accounted : 0);
	struct reasm_segment seg = {
	    .tgid = s->tgid,
	    .tid = s->end.tid,
	    .session = s->session,
	    .direction = s->direction,
	    .time_ns = s->ending ? s->end.time_ns : s->released_ns,
	    .stream_offset = length > accounted ? length : accounted,
	    .data = nothing,
	    .gap_before = gap,
	};

	if (!gap)
		return;
	s->carried_gap = 0;
	s->next_offset = seg.stream_offset;
	s->positioned = true;
	r->counters.segments++;
	r->counters.gap_bytes += gap;
	r->ops.segment(r->userdata, &seg);
}

/* Flush a stream completely and forget it; the session end goes out with its write stream. */
static void stream_finish(struct reasm *r, struct stream *s)
{
	bool tell_end = s->ending && s->tells_end;
	bool was_closed;
	struct reasm_session_end end = s->end;

	stream_flush(r, s, true);
	if (s->keep) {
		/*
		 * The connection closed: what was waiting for more (a response framed by the
		 * close) completes now. The stream stays, without calls, so that SSL_free, if it
		 * comes, still tells the loss after the last byte against what was accounted.
		 */
		s->keep = s->ending = false;
		s->closed = true;
		if (!s->n_calls)
			active_remove(s);
		if (tell_end) {
			r->counters.sessions_ended++;
			if (r->ops.session_end)
				r->ops.session_end(r->userdata, &end);
		}
		return;
	}
	/* SSL_free's record, and a plain connection's close, carry each stream's length as the
	 * kernel counted it */
	emit_tail_gap(r, s,
		      !end.lengths_known		   ? 0
		      : s->direction == CLEARTAP_DIR_WRITE ? end.bytes_written
							   : end.bytes_read);
	was_closed = s->closed;
	stream_remove(r, s);
	if (tell_end) {
		if (!was_closed) /* counted at the close already */
			r->counters.sessions_ended++;
		if (r->ops.session_end)
			r->ops.session_end(r->userdata, &end);
	}
}

/* s ends hold_ns after end_ns (keep: it is the connection's close, see stream.closed). */
static void mark_ending(struct reasm *r, struct stream *s, const struct reasm_session_end *end,
			uint64_t end_ns, bool keep)
{
	s->ending = true;
	s->keep = keep;
	s->tells_end = s->direction == CLEARTAP_DIR_WRITE ||
		       !stream_get(r, s->tgid, s->session, CLEARTAP_DIR_WRITE, false);
	s->end_ns = end_ns;
	s->end = *end;
	active_add(r, s);
}

void reasm_end_streams(struct reasm *r, const struct reasm_session_end *end)
{
	for (uint8_t dir = CLEARTAP_DIR_WRITE; dir <= CLEARTAP_DIR_READ; dir++) {
		struct stream *s = stream_get(r, end->tgid, end->session, dir, true);

		if (s) /* SSL_free (or a plain close) ends it for good */
			mark_ending(r, s, end, r->now_ns, false);
	}
}

void reasm_end_connection(struct reasm *r, uint32_t tgid, uint64_t session, uint64_t time_ns)
{
	for (uint8_t dir = CLEARTAP_DIR_WRITE; dir <= CLEARTAP_DIR_READ; dir++) {
		struct stream *s = stream_get(r, tgid, session, dir, false);

		if (!s || s->ending || s->closed)
			continue;
		mark_ending(r, s,
			    &(struct reasm_session_end){
				.tgid = tgid, .tid = tgid, .session = session, .time_ns = time_ns},
			    r->now_ns, true);
	}
}

void reasm_end_process(struct reasm *r, uint32_t tgid, uint64_t time_ns)
{
	id_table_for_each(&r->streams, n)
	{
		struct stream *s = id_entry(n, struct stream, node);

		if (s->tgid != tgid || s->ending)
			continue;
		/* no stream lengths: only SSL_free knows them */
		mark_ending(
		    r, s,
		    &(struct reasm_session_end){
			.tgid = tgid, .tid = tgid, .session = s->session, .time_ns = time_ns},
		    r->now_ns, false);
	}
}

void reasm_end_session(struct reasm *r, const struct cleartap_tls_free *rec)
{
	struct reasm_session_end end = {
	    .tgid = rec->hdr.tgid,
	    .tid = rec->hdr.tid,
	    .session = rec->session_id,
	    .ssl = rec->ssl,
	    .bytes_written = rec->bytes_written,
	    .bytes_read = rec->bytes_read,
	    .time_ns = rec->hdr.timestamp_ns,
	    .lengths_known = true,
	};

	reasm_end_streams(r, &end);
}

void reasm_tick(struct reasm *r, uint64_t now_ns)
{
	struct stream *s, *next, *other;
	struct reasm_session_end end;

	r->now_ns = now_ns;
	for (s = r->active.active_next; s != &r->active; s = next) {
		next = s->active_next;
		if (s->ending && r->now_ns - s->end_ns >= r->config.hold_ns)
			stream_finish(r, s);
		else
			stream_flush(r, s, false);
	}
	/* looked for eight times per idle timeout: a session ends at most 1/8 of it late */
	if (r->now_ns - r->swept_ns < r->config.idle_ns / 8)
		return;
	r->swept_ns = r->now_ns;
	/*
	 * Sessions idle that long whose end was never seen (no SSL_free, no close, no exit seen):
	 * they end as SSL_free would end them, HTTP included, so nothing waits forever. A stream
	 * kept after its connection's close is only forgotten: its end was told.
	 */
	id_table_for_each(&r->streams, n)
	{
		struct stream *t = id_entry(n, struct stream, node);

		if (t->n_calls || t->ending || r->now_ns - t->last_ns < r->config.idle_ns)
			continue;
		if (t->closed) {
			stream_remove(r, t);
			continue;
		}
		other = stream_get(r, t->tgid, t->session, !t->direction, false);
		if (other && (other->n_calls || other->ending ||
			      r->now_ns - other->last_ns < r->config.idle_ns))
			continue; /* the session is idle only when both directions are */
		r->counters.idle_sessions++;
		end = (struct reasm_session_end){.tgid = t->tgid,
						 .tid = t->tgid,
						 .session = t->session,
						 .time_ns = t->released_ns};
		/* due now: it waited long enough */
		mark_ending(r, t, &end, r->now_ns - r->config.hold_ns, false);
		if (other)
			mark_ending(r, other, &end, r->now_ns - r->config.hold_ns, false);
	}
	for (s = r->active.active_next; s != &r->active; s = next) {
		next = s->active_next;
		if (s->ending && r->now_ns - s->end_ns >= r->config.hold_ns)
			stream_finish(r, s);
	}
}

void reasm_flush_all(struct reasm *r)
{
	struct stream *s, *next;

	for (s = r->active.active_next; s != &r->active; s = next) {
		next = s->active_next;
		if (s->ending) {
			stream_finish(r, s);
		} else {
			stream_flush(r, s, true);
			emit_tail_gap(r, s, 0);
		}
	}
}

const struct reasm_counters *reasm_counters(const struct reasm *r)
{
	return &r->counters;
}

void reasm_free(struct reasm *r)
{
	if (!r)
		return;
	id_table_for_each(&r->streams, n)
	{
		struct stream *s = id_entry(n, struct stream, node);

		while (s->n_calls)
			call_free(r, s, pop_first_call(s));
		ct_mem_free(NULL, s->calls);
		ct_mem_free(NULL, s);
	}
	ct_mem_free(NULL, r->streams.buckets);
	ct_mem_free(NULL, r);
}
