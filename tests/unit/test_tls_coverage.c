/* SPDX-License-Identifier: Apache-2.0 */
/* Verdicts on TLS connections no plaintext was captured of: when, why, and when not to judge. */
#include "ct_test.h"
#include "tls_coverage.h"

#define SEC 1000000000ULL

struct seen {
	int n;
	uint64_t cookie;
	bool out_of_order; /* judged in another order than closed */
	const char *missed;
};

static void on_done(void *ud, const struct conn_info *info)
{
	struct seen *s = ud;

	s->n++;
	s->out_of_order |= info->cookie < s->cookie;
	s->cookie = info->cookie;
	s->missed = info->plaintext_missed;
}

/* A client connection of pid opened at t, a (malformed) hello read on it, closed at t + 1 s. */
static const struct conn_info *tls_connection_with(struct tls_coverage *cov, struct conn_table *t,
						   uint64_t cookie, uint32_t pid, uint64_t at,
						   const struct cleartap_tls_data *during)
{
	struct cleartap_conn c = {
	    .hdr = {.type = CLEARTAP_REC_CONN, .timestamp_ns = at, .tgid = pid},
	    .cookie = cookie,
	    .family = 2,
	    .role = CLEARTAP_ROLE_CLIENT,
	    .event = CLEARTAP_CONN_OPEN};
	struct {
		struct cleartap_tls_data d;
		uint8_t payload[6];
	} hello = {.d = {.hdr = {.tgid = pid}, .chunk_len = 6, .conn_cookie = cookie},
		   .payload = {0x16, 3, 1, 0, 1, 0xff}};
	const struct conn_info *info;

	CHECK(conn_table_apply(t, &c, &info) == 0);
	conn_table_hello(t, &hello.d, &info);
	if (during)
		tls_coverage_data(cov, t, during);
	c.event = CLEARTAP_CONN_CLOSE;
	c.hdr.timestamp_ns = at + SEC;
	CHECK(conn_table_apply(t, &c, &info) == 0);
	CHECK(info->tls != NULL);
	return info;
}

static const struct conn_info *tls_connection(struct conn_table *t, uint64_t cookie, uint32_t pid,
					      uint64_t at)
{
	return tls_connection_with(NULL, t, cookie, pid, at, NULL);
}

static struct cleartap_tls_data data(uint32_t pid, uint64_t cookie, uint64_t at)
{
	return (struct cleartap_tls_data){
	    .hdr = {.tgid = pid, .timestamp_ns = at}, .call_start_ns = at, .conn_cookie = cookie};
}

static void test_probed_late_and_never(void)
{
	struct conn_table *t;
	struct tls_coverage *c;
	struct seen s = {};

	CHECK(conn_table_new(&t) == 0 && tls_coverage_new(&c) == 0);
	CHECK(tls_coverage_closed(c, tls_connection(t, 1, 10, 5 * SEC))); /* closes at 6 s */
	tls_coverage_probed(c, 10, 5 * SEC + 1);			  /* just after it opened */
	CHECK(tls_coverage_closed(c, tls_connection(t, 2, 20, 5 * SEC))); /* never probed */
	/* not before its plaintext may still arrive */
	CHECK_U64(tls_coverage_due(c, t, 6 * SEC + TLS_COVERAGE_VERDICT_DELAY_NS - 1, on_done, &s),
		  0);
	CHECK_U64(s.n, 0);
	CHECK_U64(tls_coverage_due(c, t, 6 * SEC + TLS_COVERAGE_VERDICT_DELAY_NS, on_done, &s), 2);
	CHECK_U64(s.n, 2);
	CHECK_U64(s.cookie, 2);
	CHECK_STR(s.missed, "plaintext not captured: no probe on this process's TLS library");
	CHECK_STR(conn_table_get(t, 1)->plaintext_missed,
		  "plaintext not captured: library probed after the connection started");
	CHECK_U64(tls_coverage_due(c, t, UINT64_MAX, on_done, &s), 0); /* each judged once */
	CHECK_U64(s.n, 2);
	tls_coverage_free(c);
	conn_table_free(t);
}

static void test_not_judged(void)
{
	struct conn_table *t;
	struct tls_coverage *c;
	struct seen s = {};
	struct cleartap_tls_data d;

	CHECK(conn_table_new(&t) == 0 && tls_coverage_new(&c) == 0);
	/* plaintext seen on it before its close: exported at once, no verdict */
	d = data(30, 3, 4 * SEC + 10);
	CHECK(!tls_coverage_closed(c, tls_connection_with(c, t, 3, 30, 4 * SEC, &d)));
	/* the same process's probes worked before this one opened: it carried no data */
	CHECK(tls_coverage_closed(c, tls_connection(t, 4, 30, 6 * SEC)));
	/* a process whose plaintext is not tied to sockets (memory BIOs): cannot be told */
	d = data(40, 0, 1 * SEC);
	tls_coverage_data(c, t, &d);
	CHECK(tls_coverage_closed(c, tls_connection(t, 5, 40, 6 * SEC)));
	/* its plaintext arrived after the close, within the delay: not missed */
	CHECK(tls_coverage_closed(c, tls_connection(t, 6, 50, 6 * SEC)));
	d = data(50, 6, 6 * SEC + 10);
	tls_coverage_data(c, t, &d);
	CHECK_U64(tls_coverage_due(c, t, UINT64_MAX, on_done, &s), 0);
	CHECK_U64(s.n, 3); /* each close still exported */
	CHECK(s.missed == NULL && conn_table_get(t, 4)->plaintext_missed == NULL &&
	      conn_table_get(t, 5)->plaintext_missed == NULL);
	tls_coverage_free(c);
	conn_table_free(t);
}

static void test_many_closes(void)
{
	struct conn_table *t;
	struct tls_coverage *c;
	struct seen s = {};
	uint64_t missed = 0;

	CHECK(conn_table_new(&t) == 0 && tls_coverage_new(&c) == 0);
	for (uint64_t i = 1; i <= 20000; i++) { /* past the queue's compaction */
		CHECK(tls_coverage_closed(c, tls_connection(t, i, 7, i * 1000)));
		if (i % 1000 == 0)
			missed += tls_coverage_due(
			    c, t, i * 1000 + TLS_COVERAGE_VERDICT_DELAY_NS / 2, on_done, &s);
	}
	CHECK(s.n < 20000); /* the latest are still waiting */
	missed += tls_coverage_due(c, t, UINT64_MAX, on_done, &s);
	CHECK_U64(s.n, 20000);
	CHECK_U64(missed, 20000);
	CHECK(!s.out_of_order);
	CHECK_U64(s.cookie, 20000);
	tls_coverage_free(c);
	conn_table_free(t);
}

int main(void)
{
	RUN(test_probed_late_and_never);
	RUN(test_not_judged);
	RUN(test_many_closes);
	return TEST_EXIT();
}
