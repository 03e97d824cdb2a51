/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_PRIVILEGES_H
#define CT_PRIVILEGES_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Become uid/gid for good and hold no capability in any set. In this order (each step needs
 * what the previous ones have not yet given up): clear the ambient set, empty the bounding set,
 * lock the securebits (no root magic, no setuid fixup, no keep-caps, no ambient raise), drop
 * supplementary groups, setresgid, setresuid, clear effective/permitted/inheritable, set
 * no_new_privs. Then verify the result, including that uid 0 cannot be regained.
 * Returns 0 or -errno (-EPERM when not privileged enough to drop to another user).
 */
int privileges_drop(uid_t uid, gid_t gid);

/*
 * The same, but capability keep (a CAP_* value) stays in the effective, permitted and bounding
 * sets: the one privilege a helper such as the broker needs. Still no_new_privs, no ambient.
 */
int privileges_drop_keeping(uid_t uid, gid_t gid, int keep);

/*
 * For a process that starts unprivileged: clear whatever capabilities it still holds (lowering
 * needs no privilege) and set no_new_privs. The bounding set can only be emptied with
 * CAP_SETPCAP, so it is left to whoever starts the process; *ret_bounding_empty says.
 */
int privileges_shed(bool *ret_bounding_empty);

/*
 * No core dump, ever (one would hold captured plaintext), and no ptrace or /proc access by the
 * process's own user: PR_SET_DUMPABLE 0 and RLIMIT_CORE 0. Returns 0 or -errno.
 */
int privileges_forbid_core_dumps(void);

/* At most n open descriptors from now on (soft and hard limit). Returns 0 or -errno. */
int privileges_limit_files(unsigned n);

/*
 * The start of a program that must never be privileged: started as root, become user (which is
 * then required and may not be root); else shed whatever capabilities it holds. Returns 0 or
 * -errno with *ret_why saying what failed; *ret_bounding_empty as privileges_shed's (true when
 * it dropped from root).
 */
int privileges_become_unprivileged(const char *user, const char **ret_why,
				   bool *ret_bounding_empty);

/* Whether the calling process holds any capability in its effective, permitted or ambient set. */
bool privileges_any_capability(void);

/* uid/gid of a user name, or of a number given as text. -ENOENT when there is no such user. */
int privileges_lookup_user(const char *name, uid_t *ret_uid, gid_t *ret_gid);

#endif
