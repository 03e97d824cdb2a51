/* SPDX-License-Identifier: Apache-2.0 */
#include "privileges.h"

#include <errno.h>
#include <grp.h>
#include <linux/securebits.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "parse_number.h"

static int last_cap(void)
{
	/* The running kernel may know more capabilities than our headers. */
	int last = CAP_LAST_CAP;

	while (prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
		last++;
	return last;
}

static int clear_capability_sets(void)
{
	cap_t empty = cap_init();
	int r = 0;

	if (!empty)
		return -errno;
	if (cap_set_proc(empty) < 0)
		r = -errno;
	cap_free(empty);
	return r;
}

bool privileges_any_capability(void)
{
	cap_t caps = cap_get_proc();
	cap_t empty = cap_init();
	bool any = true;

	if (caps && empty)
		any = cap_compare(caps, empty) != 0;
	cap_free(caps);
	cap_free(empty);
	for (int c = 0; !any && c <= last_cap(); c++)
		any = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) > 0;
	return any;
}

/* Is the bounding set empty but for keep (-1: nothing)? */
static bool bounding_set_only(int keep)
{
	for (int c = 0; c <= last_cap(); c++)
		if ((prctl(PR_CAPBSET_READ, c, 0, 0, 0) > 0) != (c == keep))
			return false;
	return true;
}

static bool bounding_set_empty(void)
{
	return bounding_set_only(-1);
}

/* Effective and permitted exactly {keep}, inheritable and ambient empty. */
static int set_only(cap_value_t keep)
{
	cap_t caps = cap_init();
	int r = 0;

	if (!caps)
		return -errno;
	if (cap_set_flag(caps, CAP_PERMITTED, 1, &keep, CAP_SET) < 0 ||
	    cap_set_flag(caps, CAP_EFFECTIVE, 1, &keep, CAP_SET) < 0 || cap_set_proc(caps) < 0)
		r = -errno;
	cap_free(caps);
	return r;
}

static bool holds_only(cap_value_t keep)
{
	cap_t caps = cap_get_proc(), want = cap_init();
	bool only = false;

	if (caps && want && cap_set_flag(want, CAP_PERMITTED, 1, &keep, CAP_SET) == 0 &&
	    cap_set_flag(want, CAP_EFFECTIVE, 1, &keep, CAP_SET) == 0)
		only = cap_compare(caps, want) == 0;
	cap_free(caps);
	cap_free(want);
	for (int c = 0; only && c <= last_cap(); c++)
		only = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) <= 0;
	return only;
}

int privileges_drop(uid_t uid, gid_t gid)
{
	return privileges_drop_keeping(uid, gid, -1);
}

int privileges_drop_keeping(uid_t uid, gid_t gid, int keep)
{
	const unsigned long securebits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
					 SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
					 SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
					 SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	int r;

	if (uid == 0 || gid == 0)
		return -EINVAL; /* dropping to root is not dropping */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	/* Needs CAP_SETPCAP, which the bounding set still has until the last of these calls. */
	for (int c = 0; c <= last_cap(); c++)
		if (c != keep && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			return -errno;
	if (prctl(PR_SET_SECUREBITS, securebits, 0, 0, 0) < 0)
		return -errno;
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -errno;
	/* SECBIT_NO_SETUID_FIXUP kept the sets across setresuid; empty them explicitly. */
	if ((r = keep < 0 ? clear_capability_sets() : set_only(keep)) < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;

	if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0)
		return -errno;
	if (ruid != uid || euid != uid || suid != uid || rgid != gid || egid != gid ||
	    sgid != gid || (keep < 0 ? privileges_any_capability() : !holds_only(keep)) ||
	    !bounding_set_only(keep) || getgroups(0, NULL) != 0)
		return -EPERM;
	if (setuid(0) == 0 || setgid(0) == 0)
		return -EPERM; /* must be impossible now */
	return 0;
}

int privileges_shed(bool *ret_bounding_empty)
{
	int r;

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	/* Nothing held, nothing to clear: systemd's SystemCallFilter=~@privileged denies capset. */
	if (privileges_any_capability() && (r = clear_capability_sets()) < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (privileges_any_capability())
		return -EPERM;
	*ret_bounding_empty = bounding_set_empty();
	return 0;
}

int privileges_forbid_core_dumps(void)
{
	const struct rlimit none = {0, 0};

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || setrlimit(RLIMIT_CORE, &none) < 0)
		return -errno;
	return 0;
}

int privileges_limit_files(unsigned n)
{
	const struct rlimit limit = {n, n};

	return setrlimit(RLIMIT_NOFILE, &limit) < 0 ? -errno : 0;
}

int privileges_lookup_user(const char *name, uid_t *ret_uid, gid_t *ret_gid)
{
	struct passwd *pw;
	uint32_t id;

	errno = 0;
	pw = getpwnam(name);
	if (pw) {
		*ret_uid = pw->pw_uid;
		*ret_gid = pw->pw_gid;
		return 0;
	}
	if (parse_u32(name, 1, UINT32_MAX - 1, &id) == 0) {
		*ret_uid = id;
		*ret_gid = id;
		return 0;
	}
	return errno ? -errno : -ENOENT;
}

int privileges_become_unprivileged(const char *user, const char **ret_why, bool *ret_bounding_empty)
{
	uid_t uid;
	gid_t gid;
	int r;

	*ret_why = NULL;
	*ret_bounding_empty = true;
	if (geteuid() == 0 || getuid() == 0) {
		if (!user) {
			*ret_why =
			    "refusing to run as root: start as an unprivileged user, or give "
			    "--user NAME to become one";
			return -EPERM;
		}
		if ((r = privileges_lookup_user(user, &uid, &gid)) < 0) {
			*ret_why = "unknown --user";
			return r;
		}
		if (uid == 0) {
			*ret_why = "--user is root";
			return -EPERM;
		}
		if ((r = privileges_drop(uid, gid)) < 0)
			*ret_why = "cannot drop to --user";
		return r;
	}
	if ((r = privileges_shed(ret_bounding_empty)) < 0)
		*ret_why = "cannot shed capabilities";
	return r;
}
