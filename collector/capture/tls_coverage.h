/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS connections no probe saw plaintext of: a process that opened a new libssl copy (or
 * exec'd a binary with TLS built in) and talked before its probes were attached. A closed TLS
 * connection without plaintext is judged once every record it may still have in flight has
 * been read; its close record then says why nothing was captured, and is counted.
 */
#ifndef CT_TLS_COVERAGE_H
#define CT_TLS_COVERAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "cleartap/events.h"
#include "conn_table.h"

/* How long after its close a connection's plaintext may still arrive (other ring shards,
 * the next drain pass, the loader's answer to the attach request its process caused). */
#define TLS_COVERAGE_VERDICT_DELAY_NS (1000ULL * 1000000)

struct tls_coverage;

int tls_coverage_new(struct tls_coverage **ret);
void tls_coverage_free(struct tls_coverage *c);

/* A TLS data record (validated, not plain TCP). */
void tls_coverage_data(struct tls_coverage *c, struct conn_table *conns,
		       const struct cleartap_tls_data *rec);

/* A file pid had mapped was probed at now_ns (an attachment answered for it). */
void tls_coverage_probed(struct tls_coverage *c, uint32_t pid, uint64_t now_ns);

/*
 * A connection closed. true: its close record waits for the verdict (tls_coverage_due hands it
 * back); false: export it now.
 */
bool tls_coverage_closed(struct tls_coverage *c, const struct conn_info *info);

/*
 * Judge the connections whose delay ran out by now_ns (UINT64_MAX: all of them); each gets
 * its plaintext_missed reason set (or none) and is passed to done. Returns how many were
 * found missed.
 */
uint64_t tls_coverage_due(struct tls_coverage *c, struct conn_table *conns, uint64_t now_ns,
			  void (*done)(void *ud, const struct conn_info *info), void *ud);

/* Forget what processes that did nothing for keep_ns showed. */
void tls_coverage_expire(struct tls_coverage *c, uint64_t now_ns, uint64_t keep_ns);

#endif
