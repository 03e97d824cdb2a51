/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Files that appear after the loader ran (a libssl copy loaded through LD_LIBRARY_PATH, an
 * executable with OpenSSL built in such as node, a library in a container): the collector asks
 * the loader to probe them, over its lease connection, and reports the answer. It holds no
 * program and chooses nothing: the loader checks the file and plans the sites itself. Files
 * are told apart by device and inode (by namespace and path in another mount namespace); each
 * is asked for once, unless the loader refused for now (rate limit).
 */
#ifndef CT_PROBE_REQUESTS_H
#define CT_PROBE_REQUESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleartap/handoff.h"

#define PROBE_REQUESTS_QUEUED 256 /* waiting to be sent; beyond, files are refused here */

struct probe_requests;

/* lease_fd stays the caller's. known: what the loader examined at start-up. */
int probe_requests_new(int lease_fd, uint32_t mnt_ns,
		       const struct cleartap_handoff_attachment *known, size_t n_known,
		       struct probe_requests **ret);
void probe_requests_free(struct probe_requests *pr);

/*
 * A file process pid opened (is_library) or executes, named in its mount namespace mnt_ns.
 * Returns 1 with *ret_report filled when it is answered at once (the queue is full, the loader
 * is gone), 0 when asked for or nothing new, -errno for the collector's own trouble.
 */
int probe_requests_file(struct probe_requests *pr, uint32_t pid, const char *path, uint32_t mnt_ns,
			bool is_library, struct cleartap_handoff_attachment *ret_report);

/*
 * The lease connection is readable: take the loader's answers, on_answer for each (pid and
 * is_library as asked). Returns 0, or -ECONNRESET once the loader is gone (later files are then
 * answered FAILED at once) or -EPROTO on a malformed answer (likewise).
 */
int probe_requests_receive(struct probe_requests *pr,
			   void (*on_answer)(void *userdata,
					     const struct cleartap_handoff_attachment *,
					     uint32_t pid, bool is_library),
			   void *userdata);

typedef void (*probe_requests_limit_fn)(void *userdata,
					const struct cleartap_handoff_attachment *answer);

/*
 * Ask the loader to copy at most limit bytes of each call (0: all it copies), because the
 * capture levels need no more; on_answer gets its answer (status, and detail saying the
 * limit). 0, or -ECONNRESET (the loader is gone), -EAGAIN (queue full).
 */
int probe_requests_call_limit(struct probe_requests *pr, uint32_t limit,
			      probe_requests_limit_fn on_answer, void *userdata);

/*
 * A restarted loader gave a new lease: requests go there from now on, and those the old loader
 * did not answer are asked again. The fd stays the caller's.
 */
void probe_requests_resume(struct probe_requests *pr, int lease_fd);

#endif
