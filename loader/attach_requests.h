/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Files that appear after start-up, probed at the collector's request. The collector only names
 * a file (pid, path, device, inode); the loader, unprivileged by now, opens it as its own user
 * and checks it is the file named (in another mount namespace the broker opens it, if pid maps
 * it), plans its sites in a sandboxed child and attaches its own program
 * fds. Each file is examined once; new plans are rate-limited. The links live as long as the
 * loader, so a restarted collector keeps them.
 */
#ifndef CT_LOADER_ATTACH_REQUESTS_H
#define CT_LOADER_ATTACH_REQUESTS_H

#include <stddef.h>
#include <stdint.h>

#include "cleartap/handoff.h"
#include "broker.h"
#include "plan_sandbox.h"

#define ATTACH_PLANS_PER_S 10 /* sustained; a planner child costs a fork and an ELF read */
#define ATTACH_PLANS_BURST 40 /* a burst of new programs at once */
#define ATTACH_FILES_MAX   4096

struct attach_requests;

struct attach_requests_config {
	int prog_enter, prog_return;
	uint32_t kernel_features; /* without uprobe_multi, new files are only reported */
	uint32_t mnt_ns;	  /* the loader's own mount namespace */
	struct plan_sandbox sandbox;
	struct broker *broker;	      /* other mount namespaces' files; NULL or stopped: none */
	const char *no_broker_reason; /* " (--strict)", ...: said when there is none */
	const struct cleartap_handoff_attachment *known; /* what start-up examined */
	volatile uint32_t *call_limit;			 /* the programs' ct_call_limit, mapped */
	uint32_t max_call_bytes;			 /* what they copy without one */
	size_t n_known;
};

int attach_requests_new(const struct attach_requests_config *config, struct attach_requests **ret);
void attach_requests_free(struct attach_requests *ar);

/* Answer one request (now_ms: a monotonic clock, for the rate limit). Never fails. */
void attach_requests_answer(struct attach_requests *ar,
			    const struct cleartap_handoff_attach_request *request, uint64_t now_ms,
			    struct cleartap_handoff_attachment *ret_answer);

#endif
