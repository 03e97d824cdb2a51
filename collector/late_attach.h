/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probing library files and executables that appear after the loader ran (a libssl copy loaded
 * through LD_LIBRARY_PATH, an executable with OpenSSL built in such as node), with the
 * uprobe_multi programs the loader handed over: holding the program is the capability, no
 * privilege is needed. Files are told apart by device and inode; each is examined once.
 * The links live as long as the collector (it cannot pin them).
 */
#ifndef CT_LATE_ATTACH_H
#define CT_LATE_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleartap/handoff.h"

#include "attach_planner.h"

struct late_attach;

/*
 * known: what the loader already probed (or rejected), by device and inode. kernel: what the
 * running kernel emulates, read before lock-down (the planner chooses sites by it).
 * kernel_features: the loader's probe; without uprobe_multi links (before 6.6) attaching needs
 * privilege, and new files are only reported.
 */
int late_attach_new(int prog_enter, int prog_return, const struct planner_kernel *kernel,
		    uint32_t kernel_features, const struct cleartap_handoff_attachment *known,
		    size_t n_known, struct late_attach **ret);
void late_attach_free(struct late_attach *la);

/*
 * Examine path. Returns 1 with *ret_report filled when there is something to report (attached,
 * or a library file that cannot be probed), 0 when there is nothing new (seen before, or an
 * executable without TLS), or -errno for the collector's own trouble.
 */
int late_attach_path(struct late_attach *la, const char *path, bool is_library,
		     struct cleartap_handoff_attachment *ret_report);

/*
 * A library opened in another mount namespace: its path names another file here (or none),
 * and the collector cannot reach that namespace's files. Reported once per path.
 */
int late_attach_foreign(struct late_attach *la, const char *path, uint32_t mnt_ns,
			struct cleartap_handoff_attachment *ret_report);

size_t late_attach_count(const struct late_attach *la);

#endif
