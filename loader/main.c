/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cleartap-loader: the only part of cleartap that holds BPF privileges. A straight line:
 * check -> load or reuse pins -> attach -> listen -> drop every privilege -> seccomp -> serve
 * descriptors to authorised collectors.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "bpffs.h"
#include "broker.h"
#include "cleartap/events.h"
#include "ct_log.h"
#include "ct_macro.h"
#include "attach_requests.h"
#include "handoff_server.h"
#include "kernel_features.h"
#include "namespaces.h"
#include "objects.h"
#include "parse_number.h"
#include "privileges.h"
#include "proc_snapshot.h"
#include "seccomp_policy.h"
#include "targets.h"

#define BPFFS_ROOT	       "/sys/fs/bpf"
#define DEFAULT_PIN_DIR	       BPFFS_ROOT "/cleartap"
#define DEFAULT_SOCKET	       "/run/cleartap/handoff.sock"
#define DEFAULT_CONTAINER_LOGS "/var/log/containers"
#define DEFAULT_USER	       "cleartap"
#define DEFAULT_BROKER_USER    "cleartap-broker"
#define DEFAULT_RING_SIZE      (8u << 20)
#define DEFAULT_RING_SHARDS    8
#define MAX_EXTRA_TARGETS      64

/*
 * Every capability the loader uses, measured on kernel 6.18 by starting it with a bounding set
 * that lacks one at a time (tests/e2e/test_loader_privileges.py repeats the measurement).
 */
static const struct {
	cap_value_t cap;
	const char *name;
	const char *why;
} needed_caps[] = {
    {CAP_BPF, "CAP_BPF", "create maps and load programs"},
    {CAP_PERFMON, "CAP_PERFMON", "load and attach tracing programs (uprobes, tp_btf)"},
    {CAP_SYS_PTRACE, "CAP_SYS_PTRACE",
     "read /proc/PID/maps and /proc/PID/root of other users' processes"},
    {CAP_SETUID, "CAP_SETUID", "become --user"},
    {CAP_SETGID, "CAP_SETGID", "become --user's group, drop supplementary groups"},
    {CAP_SETPCAP, "CAP_SETPCAP", "empty the bounding set and lock the securebits"},
    {CAP_SYS_ADMIN, "CAP_SYS_ADMIN",
     "mount bpffs at " BPFFS_ROOT "; perf-event uprobes where uprobe_multi is missing "
     "(admin_needed())"},
};

struct options {
	const char *pin_dir;
	const char *socket_path;
	const char *user;
	const char *broker_user;
	const char *proc_root;
	const char *container_logs; /* kubelet's log links, handed to the collector; "": none */
	const char *extra_targets[MAX_EXTRA_TARGETS];
	size_t n_extra_targets;
	uid_t allowed_uids[HANDOFF_MAX_ALLOWED];
	size_t n_allowed_uids;
	gid_t allowed_gids[HANDOFF_MAX_ALLOWED];
	size_t n_allowed_gids;
	uint32_t ring_size;
	uint32_t ring_shards;
	uint32_t max_call_bytes;
	uint32_t hidden_features; /* --test-hide-feature: probed, then treated as absent */
	bool unload;
	bool attach_only;
	bool strict_caps;
	bool strict; /* no broker: containers are reported, not covered */
	bool verbose;
};

static bool verbose;

CT_DEFINE_LOG_MSG("cleartap-loader")

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* The verifier log arrives at WARN level when a load fails: always show it. */
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: cleartap-loader [OPTIONS]\n"
	    "Load cleartap's BPF programs, pin them, attach them to TLS libraries, drop every\n"
	    "privilege and hand the descriptors to collectors over a Unix socket.\n\n"
	    "  --pin-dir DIR          bpffs directory for pins (default %s)\n"
	    "  --socket PATH          handoff socket (default %s; systemd socket activation\n"
	    "                         is used instead when present)\n"
	    "  --user NAME            user to become after start-up (default %s)\n"
	    "  --broker-user NAME     user of the broker that opens files of other mount\n"
	    "                         namespaces (containers) for the loader (default %s)\n"
	    "  --strict               no broker: files in containers are reported, not probed\n"
	    "  --allow-uid UID        collector uid allowed to receive descriptors (repeatable)\n"
	    "  --allow-gid GID        collector gid allowed to receive descriptors (repeatable)\n"
	    "                         root is always allowed\n"
	    "  --attach PATH          also probe this library file (repeatable)\n"
	    "  --proc-root DIR        where to find processes (default /proc; the host's /proc\n"
	    "                         when running in a container)\n"
	    "  --container-logs DIR   kubelet's container log links, which name each container's\n"
	    "                         pod, namespace and container (default /var/log/containers;\n"
	    "                         \"\" for none)\n"
	    "  --ring-size BYTES      ring buffer bytes per shard, power of two (default %u)\n"
	    "  --ring-shards N        ring buffers, one per CPU up to N (default min(CPUs, %u))\n"
	    "  --max-call-bytes N     bytes copied per TLS call, the rest counted as truncated\n"
	    "                         (default %u)\n"
	    "  --strict-caps          refuse to start with capabilities it does not need\n"
	    "  --attach-only          load, pin and attach, then exit without serving\n"
	    "  --unload               remove everything pinned under --pin-dir and exit\n"
	    "  --verbose              libbpf debug output\n"
	    "  --test-hide-feature F  for tests: run as if the kernel lacked F (uprobe_multi,\n"
	    "                         perf_link, attach_cookie, bpf_loop, socket_cookie,\n"
	    "                         ringbuf; repeatable)\n"
	    "  --help, --version\n",
	    DEFAULT_PIN_DIR, DEFAULT_SOCKET, DEFAULT_USER, DEFAULT_BROKER_USER, DEFAULT_RING_SIZE,
	    DEFAULT_RING_SHARDS, CLEARTAP_DEFAULT_MAX_CALL_BYTES);
}

static int parse_u32_option(const char *arg, const char *name, uint32_t min, uint32_t max,
			    uint32_t *ret)
{
	if (parse_u32(arg, min, max, ret) == 0)
		return 0;
	log_msg("invalid %s '%s': expected a number from %u to %u", name, arg, min, max);
	return -EINVAL;
}

/* A number, or a user (group) name resolved now, while NSS is still reachable. */
static int add_id(const char *arg, const char *name, bool group, uint32_t *ids, size_t *n)
{
	uid_t uid;
	gid_t gid;
	struct group *gr;

	if (*n == HANDOFF_MAX_ALLOWED) {
		log_msg("too many %s (at most %d)", name, HANDOFF_MAX_ALLOWED);
		return -E2BIG;
	}
	if (parse_u32(arg, 0, UINT32_MAX - 1, &ids[*n]) == 0) {
		(*n)++;
		return 0;
	}
	if (!group && privileges_lookup_user(arg, &uid, &gid) == 0) {
		ids[(*n)++] = uid;
		return 0;
	}
	if (group && (gr = getgrnam(arg))) {
		ids[(*n)++] = gr->gr_gid;
		return 0;
	}
	log_msg("invalid %s '%s': no such %s", name, arg, group ? "group" : "user");
	return -EINVAL;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum {
		OPT_PIN_DIR = 256,
		OPT_SOCKET,
		OPT_USER,
		OPT_BROKER_USER,
		OPT_STRICT,
		OPT_PROC_ROOT,
		OPT_CONTAINER_LOGS,
		OPT_ALLOW_UID,
		OPT_ALLOW_GID,
		OPT_ATTACH,
		OPT_RING_SIZE,
		OPT_RING_SHARDS,
		OPT_MAX_CALL,
		OPT_STRICT_CAPS,
		OPT_ATTACH_ONLY,
		OPT_UNLOAD,
		OPT_VERBOSE,
		OPT_TEST_HIDE_FEATURE,
		OPT_VERSION
	};
	static const struct option longopts[] = {
	    {"pin-dir", required_argument, NULL, OPT_PIN_DIR},
	    {"socket", required_argument, NULL, OPT_SOCKET},
	    {"user", required_argument, NULL, OPT_USER},
	    {"broker-user", required_argument, NULL, OPT_BROKER_USER},
	    {"strict", no_argument, NULL, OPT_STRICT},
	    {"proc-root", required_argument, NULL, OPT_PROC_ROOT},
	    {"container-logs", required_argument, NULL, OPT_CONTAINER_LOGS},
	    {"allow-uid", required_argument, NULL, OPT_ALLOW_UID},
	    {"allow-gid", required_argument, NULL, OPT_ALLOW_GID},
	    {"attach", required_argument, NULL, OPT_ATTACH},
	    {"ring-size", required_argument, NULL, OPT_RING_SIZE},
	    {"ring-shards", required_argument, NULL, OPT_RING_SHARDS},
	    {"max-call-bytes", required_argument, NULL, OPT_MAX_CALL},
	    {"strict-caps", no_argument, NULL, OPT_STRICT_CAPS},
	    {"attach-only", no_argument, NULL, OPT_ATTACH_ONLY},
	    {"unload", no_argument, NULL, OPT_UNLOAD},
	    {"verbose", no_argument, NULL, OPT_VERBOSE},
	    {"test-hide-feature", required_argument, NULL, OPT_TEST_HIDE_FEATURE},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {},
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PIN_DIR:
			o->pin_dir = optarg;
			break;
		case OPT_SOCKET:
			o->socket_path = optarg;
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_BROKER_USER:
			o->broker_user = optarg;
			break;
		case OPT_STRICT:
			o->strict = true;
			break;
		case OPT_CONTAINER_LOGS:
			o->container_logs = optarg;
			break;
		case OPT_PROC_ROOT:
			o->proc_root = optarg;
			break;
		case OPT_ALLOW_UID:
			if ((r = add_id(optarg, "--allow-uid", false, o->allowed_uids,
					&o->n_allowed_uids)) < 0)
				return r;
			break;
		case OPT_ALLOW_GID:
			if ((r = add_id(optarg, "--allow-gid", true, o->allowed_gids,
					&o->n_allowed_gids)) < 0)
				return r;
			break;
		case OPT_ATTACH:
			if (o->n_extra_targets == MAX_EXTRA_TARGETS) {
				log_msg("too many --attach (at most %d)", MAX_EXTRA_TARGETS);
				return -E2BIG;
			}
			o->extra_targets[o->n_extra_targets++] = optarg;
			break;
		case OPT_RING_SIZE:
			if ((r = parse_u32_option(optarg, "--ring-size", 1u << 16, 1u << 30,
						  &o->ring_size)) < 0)
				return r;
			if (o->ring_size & (o->ring_size - 1)) {
				log_msg("invalid --ring-size %u: must be a power of two",
					o->ring_size);
				return -EINVAL;
			}
			break;
		case OPT_RING_SHARDS:
			if ((r = parse_u32_option(optarg, "--ring-shards", 1, CT_MAX_RING_SHARDS,
						  &o->ring_shards)) < 0)
				return r;
			break;
		case OPT_MAX_CALL:
			if ((r = parse_u32_option(optarg, "--max-call-bytes", 1, 1u << 30,
						  &o->max_call_bytes)) < 0)
				return r;
			break;
		case OPT_STRICT_CAPS:
			o->strict_caps = true;
			break;
		case OPT_ATTACH_ONLY:
			o->attach_only = true;
			break;
		case OPT_UNLOAD:
			o->unload = true;
			break;
		case OPT_VERBOSE:
			o->verbose = true;
			break;
		case OPT_TEST_HIDE_FEATURE: {
			uint32_t feature = kernel_feature_by_name(optarg);

			if (!feature) {
				char names[256] = "";

				for (size_t i = 0; i < kernel_features_count; i++)
					snprintf(names + strlen(names),
						 sizeof(names) - strlen(names), "%s%s",
						 i ? ", " : "", kernel_features[i].name);
				log_msg("invalid --test-hide-feature '%s': expected one of %s",
					optarg, names);
				return -EINVAL;
			}
			o->hidden_features |= feature;
			break;
		}
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		case OPT_VERSION:
			printf("cleartap-loader %s (schema %d)\n", CLEARTAP_VERSION,
			       CLEARTAP_SCHEMA_VERSION);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		log_msg("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (o->pin_dir[0] != '/' || strncmp(o->pin_dir, BPFFS_ROOT "/", strlen(BPFFS_ROOT) + 1) ||
	    strlen(o->pin_dir) <= strlen(BPFFS_ROOT "/") || strstr(o->pin_dir, "..")) {
		log_msg("invalid --pin-dir '%s': must be a directory below %s", o->pin_dir,
			BPFFS_ROOT);
		return -EINVAL;
	}
	return 0;
}

static bool has_cap(cap_t caps, cap_value_t cap)
{
	cap_flag_value_t v = CAP_CLEAR;

	cap_get_flag(caps, cap, CAP_EFFECTIVE, &v);
	return v == CAP_SET;
}

/*
 * CAP_SYS_ADMIN is needed to mount bpffs, and where uprobes are perf events (no uprobe_multi,
 * before Linux 6.6): Debian's and Ubuntu's kernel.perf_event_paranoid=3 patch asks CAP_SYS_ADMIN
 * (not CAP_PERFMON) of perf_event_open (measured on Debian 12's own 6.1 kernel), and this
 * project's 6.18 VM refuses a uprobe event to CAP_PERFMON with EACCES even at paranoid 2. Kept
 * for start-up only, like every capability.
 */
static bool admin_needed(bool bpffs_mounted, uint32_t features)
{
	return !bpffs_mounted || !(features & CLEARTAP_KFEAT_UPROBE_MULTI);
}

/* Gives up CAP_SYS_ADMIN at once, in every set, where admin_needed() says no. */
static int drop_admin(cap_t caps)
{
	const cap_value_t admin = CAP_SYS_ADMIN;

	if (cap_set_flag(caps, CAP_EFFECTIVE, 1, &admin, CAP_CLEAR) < 0 ||
	    cap_set_flag(caps, CAP_PERMITTED, 1, &admin, CAP_CLEAR) < 0 ||
	    cap_set_flag(caps, CAP_INHERITABLE, 1, &admin, CAP_CLEAR) < 0 ||
	    prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) < 0 || cap_set_proc(caps) < 0)
		return -errno;
	return 0;
}

/*
 * Enough to load (CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN)? More than needed_caps? The extras
 * are reported; with --strict-caps they are refused. CAP_SYS_ADMIN, which units grant for the
 * hosts that need it, is dropped at once where it is not needed.
 */
static int check_privileges(bool strict, bool bpffs_mounted, uint32_t features)
{
	cap_t caps = cap_get_proc();
	char extra[1024] = "";
	size_t n_extra = 0;
	int r = 0;

	if (!caps)
		return -errno;
	if (!has_cap(caps, CAP_SYS_ADMIN) &&
	    !(has_cap(caps, CAP_BPF) && has_cap(caps, CAP_PERFMON))) {
		cap_free(caps);
		return -EPERM;
	}
	const bool admin = admin_needed(bpffs_mounted, features);

	if (has_cap(caps, CAP_SYS_ADMIN) && !admin && has_cap(caps, CAP_BPF) &&
	    has_cap(caps, CAP_PERFMON) && has_cap(caps, CAP_SETPCAP)) {
		if ((r = drop_admin(caps)) < 0) {
			cap_free(caps);
			return r;
		}
		log_msg("CAP_SYS_ADMIN is not needed here (bpffs mounted; uprobe_multi links): "
			"dropped");
	}
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		bool needed = false;

		if (!has_cap(caps, c))
			continue;
		for (size_t i = 0; i < CT_ARRAY_SIZE(needed_caps); i++)
			needed |= needed_caps[i].cap == c && (c != CAP_SYS_ADMIN || admin);
		if (!needed) {
			char *name = cap_to_name(c);
			size_t used = strlen(extra);

			snprintf(extra + used, sizeof(extra) - used, "%s%s", n_extra ? "," : "",
				 name ? name : "?");
			cap_free(name);
			n_extra++;
		}
	}
	cap_free(caps);
	if (n_extra && strict) {
		log_msg("--strict-caps: holding %zu capabilities it does not need: %s", n_extra,
			extra);
		r = -E2BIG;
	} else if (n_extra) {
		log_msg(
		    "note: started with %zu capabilities it does not need (all are dropped after "
		    "start-up; --strict-caps refuses this)",
		    n_extra);
	}
	return r;
}

/* Each feature the kernel lacks is named once, with what it costs. */
static void log_kernel_degradations(uint32_t features)
{
	for (size_t i = 0; i < kernel_features_count; i++)
		if (!(features & kernel_features[i].feature))
			log_msg("kernel: %s", kernel_features[i].degradation);
}

static int check_bpf_available(void)
{
	/* An invalid command distinguishes "no bpf()" (ENOSYS) from "bpf() present" (EINVAL). */
	if (syscall(__NR_bpf, -1, NULL, 0) < 0 && errno == ENOSYS)
		return -ENOSYS;
	if (access("/sys/kernel/btf/vmlinux", R_OK) < 0)
		return -ENOENT;
	return 0;
}

/* What became of each library file, for collectors (at most CLEARTAP_HANDOFF_MAX_ATTACHMENTS). */
static struct cleartap_handoff_attachment attachments[CLEARTAP_HANDOFF_MAX_ATTACHMENTS];
static size_t n_attachments;

static const struct cleartap_handoff_attachment *
report_attachment(const struct tls_target *t, const struct tls_probe_plan *plan, uint32_t status,
		  const char *detail)
{
	static struct cleartap_handoff_attachment report;

	tls_probe_report(plan, status, t->dev, t->ino, t->path, detail, &report);
	if (n_attachments < CLEARTAP_HANDOFF_MAX_ATTACHMENTS)
		attachments[n_attachments++] = report;
	return &report;
}

/* One line per probed function: where its probes sit and why. */
static void log_sites(const struct cleartap_handoff_attachment *a)
{
	for (uint32_t i = 0; i < a->n_sites; i++) {
		char line[256];

		tls_probe_describe_site(&a->sites[i], line, sizeof(line));
		log_msg("  %s", line);
	}
}

static void attach_targets(const struct options *opt, struct objects *objects,
			   const struct plan_sandbox *sandbox)
{
	struct tls_target_list list = {};
	unsigned attached = 0, present = 0;
	int r;

	log_msg("probe sites for kernel %u.%u: call, jmp, jcc and nop emulated%s",
		sandbox->kernel.major, sandbox->kernel.minor,
		sandbox->kernel.push_emulated ? ", push emulated" : "; push single-stepped");
	r = targets_discover(opt->proc_root, opt->extra_targets, opt->n_extra_targets, &list);
	if (r < 0) {
		log_msg("could not list TLS libraries: %s", strerror(-r));
		return;
	}
	for (size_t i = 0; i < list.n; i++) {
		const struct tls_target *t = &list.items[i];
		const struct cleartap_handoff_attachment *report;
		struct tls_probe_plan plan = {};
		enum target_result result;

		r = target_attach(objects, sandbox, opt->pin_dir, t, &result, &plan);
		/* an executable without TLS code is what most are: not worth a line */
		if (t->executable && (r == -ENOENT || r == -ENOEXEC))
			continue;
		if (r == -ENOENT || r == -ENOEXEC || r == -ECHILD || r == -EBADMSG ||
		    r == -ENOTSUP) {
			char why[256];

			plan_error_describe(r, &plan, why, sizeof(why));
			log_msg("skipped %s: %s", t->path, why);
			report_attachment(t, &plan, CLEARTAP_ATTACH_SKIPPED, why);
			continue;
		}
		if (r < 0) {
			char why[192];

			snprintf(why, sizeof(why), "%s%s", strerror(-r),
				 r == -EACCES ? " (perf_event_open of uprobes needs CAP_SYS_ADMIN)"
					      : "");
			log_msg("could not attach to %s: %s", t->path, why);
			report_attachment(t, &plan, CLEARTAP_ATTACH_FAILED, why);
			continue;
		}
		report =
		    report_attachment(t, &plan,
				      result == TARGET_ATTACHED ? CLEARTAP_ATTACH_ATTACHED
								: CLEARTAP_ATTACH_ALREADY_ATTACHED,
				      plan.missing[0] ? plan.missing : "");
		present++;
		attached += result == TARGET_ATTACHED;
		log_msg("%s %s (%s, %zu functions%s%s)",
			result == TARGET_ATTACHED ? "attached to" : "already attached to", t->path,
			plan.library_name, plan.n_functions, plan.missing[0] ? ", missing " : "",
			plan.missing);
		log_sites(report);
	}
	targets_free(&list);
	log_msg("%u TLS library files probed (%u newly attached)", present, attached);
	if (objects->n_instances)
		log_msg(
		    "%zu TLS program instances loaded, one per probed function kind and program "
		    "(no attach cookies)",
		    objects->n_instances);
}

static void on_handoff_event(void *userdata, const struct handoff_event *e)
{
	static unsigned long troubles;

	(void)userdata;
	if (e->kind == HANDOFF_SERVED) {
		log_msg("handed descriptors to pid %d uid %u", e->pid, e->uid);
		return;
	}
	if (e->kind == HANDOFF_RELEASED) {
		log_msg("collector pid %d uid %u disconnected: the rings are free", e->pid, e->uid);
		return;
	}
	/* A flood must not become a flood of log lines: the first 20, then one per 100. */
	if (++troubles > 20 && troubles % 100)
		return;
	switch (e->kind) {
	case HANDOFF_REFUSED:
		log_msg("refused peer pid %d uid %u gid %u: not allowed", e->pid, e->uid, e->gid);
		break;
	case HANDOFF_BAD_HELLO:
		log_msg("peer pid %d uid %u: bad hello (%s)", e->pid, e->uid, strerror(-e->error));
		break;
	case HANDOFF_TIMED_OUT:
		log_msg("peer pid %d uid %u: no hello in time, disconnected", e->pid, e->uid);
		break;
	case HANDOFF_IO_ERROR:
		log_msg("peer pid %d uid %u: %s", e->pid, e->uid, strerror(-e->error));
		break;
	case HANDOFF_TOO_MANY:
		log_msg("peer pid %d uid %u: too many waiting clients, closed", e->pid, e->uid);
		break;
	case HANDOFF_BUSY:
		log_msg("refused peer pid %d uid %u: collector pid %d uid %u reads the rings (one "
			"reader per ring set)",
			e->pid, e->uid, e->holder_pid, e->holder_uid);
		break;
	case HANDOFF_BAD_REQUEST:
		log_msg("collector pid %d uid %u broke the request protocol (%s): its lease ends",
			e->pid, e->uid, strerror(-e->error));
		break;
	case HANDOFF_SERVED:
	case HANDOFF_RELEASED:
		break;
	}
	if (troubles == 20)
		log_msg("(further peer problems are logged once per 100)");
}

/* Who the loader becomes (and its planner children run as): never root. */
static int lookup_user(const struct options *opt, uid_t *ret_uid, gid_t *ret_gid)
{
	int r = privileges_lookup_user(opt->user, ret_uid, ret_gid);

	if (r < 0) {
		log_msg("user '%s' does not exist: create it (systemd/sysusers.d/cleartap.conf) or "
			"choose one with --user",
			opt->user);
		return r;
	}
	if (*ret_uid == 0) {
		log_msg("--user '%s' is root: the loader must not keep root", opt->user);
		return -EPERM;
	}
	return 0;
}

/*
 * From here on the loader holds nothing but descriptors: it hands out the rings, and attaches
 * its own programs to files collectors name, at sites it plans itself.
 */
static int drop_and_lock_down(uid_t uid, gid_t gid)
{
	int r;

	if ((r = privileges_drop(uid, gid)) < 0) {
		log_msg("cannot drop privileges to uid %u: %s", uid, strerror(-r));
		return r;
	}
	if ((r = seccomp_install(loader_serving_rules, loader_serving_rules_count)) < 0) {
		log_msg("cannot install the seccomp filter: %s", strerror(-r));
		return r;
	}
	log_msg("dropped to uid %u gid %u: no capabilities, no_new_privs, seccomp allowlist of %zu "
		"rules",
		uid, gid, loader_serving_rules_count);
	return 0;
}

static void on_attach_request(void *userdata, const struct cleartap_handoff_attach_request *req,
			      struct cleartap_handoff_attachment *ret_answer)
{
	static const char *const verdicts[] = {
	    [CLEARTAP_ATTACH_ATTACHED] = "attached",
	    [CLEARTAP_ATTACH_ALREADY_ATTACHED] = "already attached",
	    [CLEARTAP_ATTACH_SKIPPED] = "skipped",
	    [CLEARTAP_ATTACH_FAILED] = "failed",
	    [CLEARTAP_ATTACH_REFUSED] = "refused",
	};
	struct attach_requests *requests = userdata;
	static unsigned long logged;
	char path[sizeof(req->path) + 1] = {};

	attach_requests_answer(requests, req, ct_monotonic_ms(), ret_answer);
	/* a collector asking in a loop must not become a loop of log lines */
	if (++logged > 100 && logged % 1000)
		return;
	if (req->flags == CLEARTAP_REQUEST_CALL_LIMIT) {
		log_msg("collector's capture levels: %s: %.128s", verdicts[ret_answer->status],
			ret_answer->detail);
		return;
	}
	memcpy(path, ret_answer->path, sizeof(ret_answer->path));
	log_msg("collector asked for %s (pid %u): %s%s%.128s", path, req->pid,
		verdicts[ret_answer->status], ret_answer->detail[0] ? ": " : "",
		ret_answer->detail);
	if (ret_answer->status == CLEARTAP_ATTACH_ATTACHED)
		log_sites(ret_answer);
}

/*
 * The broker, forked while the loader is still root: without it (--strict, or no such user)
 * files in containers are reported, not probed, and *ret_reason says why.
 */
static void start_broker(const struct options *opt, struct broker *ret, const char **ret_reason)
{
	uid_t uid;
	gid_t gid;
	int r;

	*ret = (struct broker){.sock = -1};
	if (opt->strict) {
		*ret_reason = " (--strict)";
		return;
	}
	if (privileges_lookup_user(opt->broker_user, &uid, &gid) < 0 || uid == 0) {
		log_msg("no broker: user '%s' does not exist (systemd/sysusers.d/cleartap.conf) or "
			"is root; files in containers are reported, not probed",
			opt->broker_user);
		*ret_reason = " (its user does not exist)";
		return;
	}
	if ((r = broker_start(uid, gid, opt->proc_root, ret)) < 0) {
		log_msg("no broker: %s; files in containers are reported, not probed",
			strerror(-r));
		*ret_reason = " (it could not start)";
		return;
	}
	log_msg("broker pid %d as uid %u: CAP_SYS_PTRACE alone, seccomp allowlist of %zu rules",
		ret->pid, uid, broker_rules_count);
	*ret_reason = "";
}

/* A collector without the snapshot still works: its processes are known from their execs. */
static void take_snapshot(const struct options *opt, struct handoff_server *server, int *ret_fd)
{
	size_t count, left_out;
	int r = proc_snapshot_take(opt->proc_root, ret_fd, &count, &left_out);

	if (r == 0)
		r = handoff_server_add_file(server, CLEARTAP_FD_PROCESSES, *ret_fd);
	if (r < 0) {
		log_msg("no process snapshot for the collector (%s): processes already running are "
			"known only by their pids",
			strerror(-r));
		return;
	}
	if (left_out)
		log_msg("process snapshot: %zu processes running, %zu more left out (at most %d)",
			count, left_out, PROC_SNAPSHOT_MAX);
	else
		log_msg("process snapshot: %zu processes running", count);
}

/*
 * kubelet's container log links name each container's pod: the directory (never a log) is
 * handed to the collector, which lists it. None on a node without kubelet.
 */
static void open_container_logs(const struct options *opt, struct handoff_server *server,
				int *ret_fd)
{
	int r;

	if (!opt->container_logs[0])
		return;
	*ret_fd = open(opt->container_logs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = *ret_fd < 0 ? -errno
			: handoff_server_add_file(server, CLEARTAP_FD_CONTAINER_LOGS, *ret_fd);
	if (r == -ENOENT && strcmp(opt->container_logs, DEFAULT_CONTAINER_LOGS) == 0)
		return; /* not a Kubernetes node */
	if (r < 0)
		log_msg("--container-logs %s: %s; records carry no pod names", opt->container_logs,
			strerror(-r));
}

static int serve(const struct options *opt, const struct objects *objects,
		 const struct plan_sandbox *sandbox)
{
	struct attach_requests *requests = NULL;
	struct broker broker = {.sock = -1};
	struct attach_requests_config arc = {
	    .prog_enter = objects->fds.prog_tls_enter,
	    .prog_return = objects->fds.prog_tls_return,
	    .kernel_features = objects->fds.kernel_features,
	    .mnt_ns = own_mount_namespace(),
	    .sandbox = *sandbox,
	    .known = attachments,
	    .n_known = n_attachments,
	    .call_limit = objects->call_limit,
	    .max_call_bytes = objects->fds.max_call_bytes,
	};
	struct pollfd pfds[3 + HANDOFF_MAX_CLIENTS];
	static struct handoff_server server;
	_cleanup_close_ int listen_fd = -1;
	_cleanup_close_ int sig_fd = -1;
	_cleanup_close_ int snapshot_fd = -1;
	_cleanup_close_ int container_logs_fd = -1;
	bool activated = false;
	sigset_t mask;
	int r;

	r = handoff_listen_from_systemd(&listen_fd);
	if (r == 0) {
		activated = true;
	} else if (r != -ENOENT) {
		log_msg("socket activation: bad listening socket: %s", strerror(-r));
		return r;
	} else {
		r = handoff_listen(opt->socket_path, &listen_fd);
		if (r == -EADDRINUSE) {
			log_msg("socket %s is in use by another loader", opt->socket_path);
			return r;
		}
		if (r < 0) {
			log_msg("cannot listen on %s: %s", opt->socket_path, strerror(-r));
			return r;
		}
	}
	r = handoff_server_init(&server, listen_fd, &objects->fds, attachments, n_attachments,
				opt->allowed_uids, opt->n_allowed_uids, opt->allowed_gids,
				opt->n_allowed_gids, on_handoff_event, NULL);
	if (r < 0) {
		log_msg("cannot describe the pinned objects: %s", strerror(-r));
		return r;
	}
	take_snapshot(opt, &server, &snapshot_fd); /* while still root: every executable shown */
	open_container_logs(opt, &server, &container_logs_fd);
	start_broker(opt, &broker, &arc.no_broker_reason); /* while still root */
	arc.broker = &broker;
	if ((r = attach_requests_new(&arc, &requests)) < 0)
		return r;
	handoff_server_on_request(&server, on_attach_request, requests);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sig_fd < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	if ((r = drop_and_lock_down(sandbox->uid, sandbox->gid)) < 0) {
		attach_requests_free(requests);
		broker_stop(&broker);
		return r;
	}
	log_msg("serving descriptors on %s",
		activated ? "the socket-activated socket" : opt->socket_path);
	for (;;) {
		int timeout;
		size_t n = handoff_server_pollfds(&server, pfds + 1, &timeout);

		pfds[0] = (struct pollfd){.fd = sig_fd, .events = POLLIN};
		if (poll(pfds, n + 1, timeout) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (pfds[0].revents) {
			r = 0;
			break;
		}
		handoff_server_process(&server, pfds + 1, n);
	}
	handoff_server_close_clients(&server);
	attach_requests_free(requests);
	broker_stop(&broker);
	if (!activated)
		unlink(opt->socket_path); /* best effort: the directory may not be ours any more */
	return r;
}

int main(int argc, char **argv)
{
	struct options opt = {
	    .pin_dir = DEFAULT_PIN_DIR,
	    .socket_path = DEFAULT_SOCKET,
	    .user = DEFAULT_USER,
	    .broker_user = DEFAULT_BROKER_USER,
	    .proc_root = "/proc",
	    .container_logs = DEFAULT_CONTAINER_LOGS,
	    .ring_size = DEFAULT_RING_SIZE,
	    .max_call_bytes = CLEARTAP_DEFAULT_MAX_CALL_BYTES,
	};
	struct objects objects;
	struct objects_config cfg;
	struct plan_sandbox sandbox;
	uint32_t features;
	int r, ncpus;

	if (parse_options(argc, argv, &opt) < 0)
		return EXIT_FAILURE;
	if ((r = privileges_forbid_core_dumps()) < 0) {
		log_msg("cannot forbid core dumps: %s", strerror(-r));
		return EXIT_FAILURE;
	}
	verbose = opt.verbose;
	libbpf_set_print(libbpf_log);
	ncpus = get_nprocs_conf();
	if (!opt.ring_shards)
		opt.ring_shards =
		    ncpus < DEFAULT_RING_SHARDS ? (uint32_t)ncpus : DEFAULT_RING_SHARDS;

	/* probed once: CAP_SYS_ADMIN's need depends on it, and the programs are chosen by it */
	features = kernel_features_probe() & ~opt.hidden_features;
	/*
	 * A uprobe_multi link runs one program at every site, told apart by cookies: without
	 * them each site runs an instance of its own (no real kernel has the one without the
	 * other: 5.15 < 6.6; only --test-hide-feature makes it).
	 */
	if (!(features & CLEARTAP_KFEAT_ATTACH_COOKIE))
		features &= ~CLEARTAP_KFEAT_UPROBE_MULTI;
	r = check_privileges(opt.strict_caps, bpffs_is_bpffs(BPFFS_ROOT) > 0, features);
	if (r == -EPERM) {
		log_msg("not privileged: run as root, or with CAP_BPF and CAP_PERFMON (see --help "
			"and README for the full list)");
		return EXIT_FAILURE;
	}
	if (r < 0)
		return EXIT_FAILURE;
	r = check_bpf_available();
	if (r == -ENOSYS) {
		log_msg("BPF unavailable: this kernel has no bpf() system call");
		return EXIT_FAILURE;
	}
	if (r < 0) {
		log_msg("no BTF: /sys/kernel/btf/vmlinux is missing (needs CONFIG_DEBUG_INFO_BTF)");
		return EXIT_FAILURE;
	}
	r = bpffs_ensure_mounted(BPFFS_ROOT);
	if (r < 0) {
		log_msg("cannot mount bpffs at %s: %s", BPFFS_ROOT, strerror(-r));
		return EXIT_FAILURE;
	}
	if (opt.unload) {
		r = objects_remove_pins(opt.pin_dir);
		if (r < 0) {
			log_msg("unload of %s failed: %s", opt.pin_dir, strerror(-r));
			return EXIT_FAILURE;
		}
		log_msg("removed every pin under %s", opt.pin_dir);
		return EXIT_SUCCESS;
	}

	if (lookup_user(&opt, &sandbox.uid, &sandbox.gid) < 0)
		return EXIT_FAILURE;
	if ((r = planner_kernel_running(&sandbox.kernel)) < 0) {
		log_msg("cannot tell the running kernel: %s", strerror(-r));
		return EXIT_FAILURE;
	}
	log_kernel_degradations(features);
	/* bounded copy loops (no bpf_loop) unroll at most CLEARTAP_BOUNDED_MAX_CHUNKS chunks */
	if (!(features & CLEARTAP_KFEAT_BPF_LOOP) &&
	    opt.max_call_bytes > CLEARTAP_BOUNDED_MAX_CALL_BYTES)
		opt.max_call_bytes = CLEARTAP_BOUNDED_MAX_CALL_BYTES;
	cfg = (struct objects_config){
	    .kernel_features = features,
	    .pin_dir = opt.pin_dir,
	    .ring_size = opt.ring_size,
	    .ring_shards = opt.ring_shards,
	    .max_call_bytes = opt.max_call_bytes,
	};
	if (kernel_features_missing_required(cfg.kernel_features)) {
		/* refused before anything is loaded or pinned: a clear word, not a verifier log */
		log_msg(
		    "this kernel cannot run cleartap's programs (see the missing features above); "
		    "cleartap needs Linux 5.10 or later");
		return EXIT_FAILURE;
	}
	if (opt.attach_only &&
	    !(features & (CLEARTAP_KFEAT_UPROBE_MULTI | CLEARTAP_KFEAT_PERF_LINK))) {
		log_msg(
		    "--attach-only needs BPF links on perf events (Linux 5.15): here the loader "
		    "holds its uprobes, and they detach when it exits; run it without "
		    "--attach-only");
		return EXIT_FAILURE;
	}
	r = objects_load_or_reuse(&cfg, &objects);
	if (r == -EPROTONOSUPPORT || r == -EUCLEAN) {
		log_msg("pins under %s are from another cleartap version or incomplete: run "
			"cleartap-loader --unload first",
			opt.pin_dir);
		return EXIT_FAILURE;
	}
	if (r < 0) {
		log_msg("loading BPF programs failed: %s%s", strerror(-r),
			r == -EPERM ? " (BPF refused: check lockdown and capabilities)" : "");
		return EXIT_FAILURE;
	}
	if (objects.reused && (objects.fds.ring_size != opt.ring_size ||
			       objects.fds.max_call_bytes != opt.max_call_bytes ||
			       objects.fds.n_rings != opt.ring_shards))
		log_msg("reusing pins under %s with their own settings (ring %u x %u bytes, max %u "
			"bytes per call); --unload to change them",
			opt.pin_dir, objects.fds.n_rings, objects.fds.ring_size,
			objects.fds.max_call_bytes);
	log_msg("%s programs under %s", objects.reused ? "reusing pinned" : "loaded and pinned",
		opt.pin_dir);

	attach_targets(&opt, &objects, &sandbox);

	r = opt.attach_only ? 0 : serve(&opt, &objects, &sandbox);
	objects_close(&objects);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
