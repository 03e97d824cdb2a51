/* SPDX-License-Identifier: Apache-2.0 */
#include "tls_coverage.h"
#include "buf.h"
#include "id_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memory_budget.h"

/* What one process showed of its probes. */
struct pid_note {
	struct id_node node;	/* key: the pid */
	uint64_t first_tied_ns; /* its first plaintext tied to a connection; 0: none yet */
	uint64_t probed_ns;	/* a file it mapped was probed (its latest); 0: never */
	bool untied;		/* it had plaintext no socket was found for (memory BIOs) */
	uint64_t last_ns;	/* for expiry */
};

struct pending {
	uint64_t cookie, due_ns;
};

struct tls_coverage {
	struct id_table pids;
	struct ct_buf queue; /* struct pending, in close order; due times ascend */
	size_t head;	     /* bytes of queue already judged */
};

int tls_coverage_new(struct tls_coverage **ret)
{
	struct tls_coverage *c = ct_mem_zalloc(NULL, sizeof(*c));

	if (!c || id_table_init(&c->pids, 256) < 0) {
		ct_mem_free(NULL, c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

static void free_note(struct id_node *n)
{
	ct_mem_free(NULL, id_entry(n, struct pid_note, node));
}

void tls_coverage_free(struct tls_coverage *c)
{
	if (!c)
		return;
	id_table_free(&c->pids, free_note);
	ct_buf_free(&c->queue);
	ct_mem_free(NULL, c);
}

static struct pid_note *note_of(struct tls_coverage *c, uint32_t pid, uint64_t now_ns)
{
	struct id_node *n = id_table_find(&c->pids, pid);
	struct pid_note *note;

	if (n) {
		note = id_entry(n, struct pid_note, node);
	} else {
		note = ct_mem_zalloc(NULL, sizeof(*note));
		if (!note)
			return NULL;
		note->node.key = pid;
		id_table_insert(&c->pids, &note->node);
	}
	note->last_ns = now_ns;
	return note;
}

void tls_coverage_data(struct tls_coverage *c, struct conn_table *conns,
		       const struct cleartap_tls_data *rec)
{
	uint64_t ts = rec->hdr.timestamp_ns;
	struct pid_note *note = note_of(c, rec->hdr.tgid, ts);

	if (rec->conn_cookie)
		conn_table_note_tls_plaintext(conns, rec->conn_cookie, rec->hdr.tgid,
					      rec->session_id);
	if (!note)
		return; /* out of memory: this process goes unjudged, never misjudged (see due) */
	if (!rec->conn_cookie)
		note->untied = true;
	else if (!note->first_tied_ns)
		note->first_tied_ns = rec->call_start_ns ? rec->call_start_ns : ts;
}

void tls_coverage_probed(struct tls_coverage *c, uint32_t pid, uint64_t now_ns)
{
	struct pid_note *note = pid ? note_of(c, pid, now_ns) : NULL;

	if (note)
		note->probed_ns = now_ns;
}

bool tls_coverage_closed(struct tls_coverage *c, const struct conn_info *info)
{
	struct pending p = {info->cookie, info->close_ns + TLS_COVERAGE_VERDICT_DELAY_NS};

	/* only TLS connections (a hello was read) that no plaintext was seen on yet */
	if (!info->tls || info->tls_plaintext || info->plain || !info->pid)
		return false;
	ct_buf_put(&c->queue, &p, sizeof(p));
	return !c->queue.failed;
}

/* Why nothing of the connection was captured; NULL when that cannot be told. */
static const char *verdict(struct tls_coverage *c, const struct conn_info *info)
{
	struct id_node *n = id_table_find(&c->pids, info->pid);
	const struct pid_note *note = n ? id_entry(n, struct pid_note, node) : NULL;

	if (info->tls_plaintext || info->plain)
		return NULL;
	if (note && note->untied)
		return NULL; /* its plaintext is not tied to sockets: this one may be among it */
	if (note && note->first_tied_ns && note->first_tied_ns <= info->open_ns)
		return NULL; /* its probes were live before it connected: it sent no data */
	if (note && note->probed_ns > info->open_ns)
		return "plaintext not captured: library probed after the connection started";
	return "plaintext not captured: no probe on this process's TLS library";
}

uint64_t tls_coverage_due(struct tls_coverage *c, struct conn_table *conns, uint64_t now_ns,
			  void (*done)(void *ud, const struct conn_info *info), void *ud)
{
	uint64_t missed = 0;

	while (c->head + sizeof(struct pending) <= c->queue.len) {
		const struct pending *p = (const struct pending *)(c->queue.data + c->head);
		const struct conn_info *info = conn_table_get(conns, p->cookie);

		if (p->due_ns > now_ns)
			break;
		c->head += sizeof(*p);
		if (!info)
			continue;
		info = conn_table_set_plaintext_missed(conns, p->cookie, verdict(c, info));
		missed += info->plaintext_missed != NULL;
		done(ud, info);
	}
	if (c->head == c->queue.len) {
		ct_buf_reset(&c->queue);
		c->head = 0;
	} else if (c->head > 65536 && c->head > c->queue.len / 2) {
		/* closes keep coming: drop the judged front rather than grow */
		memmove(c->queue.data, c->queue.data + c->head, c->queue.len - c->head);
		c->queue.len -= c->head;
		c->head = 0;
	}
	return missed;
}

struct expiry {
	uint64_t now_ns, keep_ns;
};

static bool stale(const struct id_node *n, void *ud)
{
	const struct pid_note *note = id_entry(n, struct pid_note, node);
	const struct expiry *x = ud;

	return x->now_ns > note->last_ns + x->keep_ns;
}

void tls_coverage_expire(struct tls_coverage *c, uint64_t now_ns, uint64_t keep_ns)
{
	struct expiry x = {now_ns, keep_ns};

	id_table_remove_if(&c->pids, stale, &x, free_note);
}
