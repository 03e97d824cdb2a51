/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cleartap-loader: the only part of cleartap that holds BPF privileges. A straight line:
 * check -> load or reuse pins -> attach -> serve descriptors to collectors.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "bpffs.h"
#include "cleartap/events.h"
#include "ct_macro.h"
#include "handoff_server.h"
#include "objects.h"
#include "parse_number.h"
#include "targets.h"

#define BPFFS_ROOT	    "/sys/fs/bpf"
#define DEFAULT_PIN_DIR	    BPFFS_ROOT "/cleartap"
#define DEFAULT_SOCKET	    "/run/cleartap/handoff.sock"
#define DEFAULT_RING_SIZE   (8u << 20)
#define DEFAULT_RING_SHARDS 8
#define MAX_EXTRA_TARGETS   64
#define MAX_ALLOWED_UIDS    16

struct options {
	const char *pin_dir;
	const char *socket_path;
	const char *extra_targets[MAX_EXTRA_TARGETS];
	size_t n_extra_targets;
	uid_t allowed_uids[MAX_ALLOWED_UIDS];
	size_t n_allowed_uids;
	uint32_t ring_size;
	uint32_t ring_shards;
	uint32_t max_call_bytes;
	bool unload;
	bool attach_only;
	bool verbose;
};

static bool verbose;

static void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("cleartap-loader: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

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
	    "Load cleartap's BPF programs, pin them, attach them to TLS libraries and hand\n"
	    "their descriptors to collectors over a Unix socket.\n\n"
	    "  --pin-dir DIR          bpffs directory for pins (default %s)\n"
	    "  --socket PATH          handoff socket (default %s)\n"
	    "  --allow-uid UID        collector uid allowed to receive descriptors (repeatable;\n"
	    "                         root is always allowed)\n"
	    "  --attach PATH          also probe this library file (repeatable)\n"
	    "  --ring-size BYTES      ring buffer bytes per shard, power of two (default %u)\n"
	    "  --ring-shards N        ring buffers, one per CPU up to N (default min(CPUs, %u))\n"
	    "  --max-call-bytes N     bytes copied per TLS call, the rest counted as truncated\n"
	    "                         (default %u)\n"
	    "  --attach-only          load, pin and attach, then exit without serving\n"
	    "  --unload               remove everything pinned under --pin-dir and exit\n"
	    "  --verbose              libbpf debug output\n"
	    "  --help, --version\n",
	    DEFAULT_PIN_DIR, DEFAULT_SOCKET, DEFAULT_RING_SIZE, DEFAULT_RING_SHARDS,
	    CLEARTAP_DEFAULT_MAX_CALL_BYTES);
}

static int parse_u32_option(const char *arg, const char *name, uint32_t min, uint32_t max,
			    uint32_t *ret)
{
	if (parse_u32(arg, min, max, ret) == 0)
		return 0;
	log_msg("invalid %s '%s': expected a number from %u to %u", name, arg, min, max);
	return -EINVAL;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum {
		OPT_PIN_DIR = 256,
		OPT_SOCKET,
		OPT_ALLOW_UID,
		OPT_ATTACH,
		OPT_RING_SIZE,
		OPT_RING_SHARDS,
		OPT_MAX_CALL,
		OPT_ATTACH_ONLY,
		OPT_UNLOAD,
		OPT_VERBOSE,
		OPT_VERSION
	};
	static const struct option longopts[] = {
	    {"pin-dir", required_argument, NULL, OPT_PIN_DIR},
	    {"socket", required_argument, NULL, OPT_SOCKET},
	    {"allow-uid", required_argument, NULL, OPT_ALLOW_UID},
	    {"attach", required_argument, NULL, OPT_ATTACH},
	    {"ring-size", required_argument, NULL, OPT_RING_SIZE},
	    {"ring-shards", required_argument, NULL, OPT_RING_SHARDS},
	    {"max-call-bytes", required_argument, NULL, OPT_MAX_CALL},
	    {"attach-only", no_argument, NULL, OPT_ATTACH_ONLY},
	    {"unload", no_argument, NULL, OPT_UNLOAD},
	    {"verbose", no_argument, NULL, OPT_VERBOSE},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {},
	};
	uint32_t u;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PIN_DIR:
			o->pin_dir = optarg;
			break;
		case OPT_SOCKET:
			o->socket_path = optarg;
			break;
		case OPT_ALLOW_UID:
			if (o->n_allowed_uids == MAX_ALLOWED_UIDS) {
				log_msg("too many --allow-uid (at most %d)", MAX_ALLOWED_UIDS);
				return -E2BIG;
			}
			if ((r = parse_u32_option(optarg, "--allow-uid", 0, UINT32_MAX - 1, &u)) <
			    0)
				return r;
			o->allowed_uids[o->n_allowed_uids++] = u;
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
		case OPT_ATTACH_ONLY:
			o->attach_only = true;
			break;
		case OPT_UNLOAD:
			o->unload = true;
			break;
		case OPT_VERBOSE:
			o->verbose = true;
			break;
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

/* Loading BPF and attaching uprobes needs CAP_BPF + CAP_PERFMON; mounting bpffs CAP_SYS_ADMIN. */
static int check_privileges(void)
{
	cap_flag_value_t bpf = CAP_CLEAR, perfmon = CAP_CLEAR, admin = CAP_CLEAR;
	cap_t caps = cap_get_proc();

	if (!caps)
		return -errno;
	cap_get_flag(caps, CAP_BPF, CAP_EFFECTIVE, &bpf);
	cap_get_flag(caps, CAP_PERFMON, CAP_EFFECTIVE, &perfmon);
	cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &admin);
	cap_free(caps);
	if (admin == CAP_SET || (bpf == CAP_SET && perfmon == CAP_SET))
		return 0;
	return -EPERM;
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

static void attach_targets(const struct options *opt, const struct objects *objects,
			   unsigned *ret_attached, unsigned *ret_present)
{
	struct tls_target_list list = {};
	unsigned attached = 0, present = 0;
	int r;

	r = targets_discover(opt->extra_targets, opt->n_extra_targets, &list);
	if (r < 0) {
		log_msg("could not list TLS libraries: %s", strerror(-r));
		*ret_attached = *ret_present = 0;
		return;
	}
	for (size_t i = 0; i < list.n; i++) {
		const struct tls_target *t = &list.items[i];
		struct tls_probe_plan plan = {};
		enum target_result result;

		r = target_attach(objects, opt->pin_dir, t, &result, &plan);
		if (r == -ENOENT || r == -ENOEXEC) {
			log_msg("skipped %s: %s", t->path,
				r == -ENOEXEC ? "not an ELF file"
					      : "SSL_read/SSL_write symbols not found");
			continue;
		}
		if (r < 0) {
			log_msg("could not attach to %s: %s", t->path, strerror(-r));
			continue;
		}
		present++;
		attached += result == TARGET_ATTACHED;
		log_msg("%s %s (%zu functions%s%s)",
			result == TARGET_ATTACHED ? "attached to" : "already attached to", t->path,
			plan.n_entry, plan.missing[0] ? ", missing " : "", plan.missing);
	}
	targets_free(&list);
	*ret_attached = attached;
	*ret_present = present;
}

static int serve(const struct options *opt, const struct objects *objects)
{
	_cleanup_close_ int listen_fd = -1;
	_cleanup_close_ int sig_fd = -1;
	sigset_t mask;
	int r;

	r = handoff_listen(opt->socket_path, &listen_fd);
	if (r == -EADDRINUSE) {
		log_msg("socket %s is in use by another loader", opt->socket_path);
		return r;
	}
	if (r < 0) {
		log_msg("cannot listen on %s: %s", opt->socket_path, strerror(-r));
		return r;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sig_fd < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	log_msg("serving descriptors on %s", opt->socket_path);
	for (;;) {
		struct pollfd pfd[2] = {{.fd = listen_fd, .events = POLLIN},
					{.fd = sig_fd, .events = POLLIN}};
		struct handoff_peer peer = {};

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (pfd[1].revents) {
			r = 0;
			break;
		}
		r = handoff_serve_one(listen_fd, objects, opt->allowed_uids, opt->n_allowed_uids,
				      &peer);
		if (r < 0)
			log_msg("peer pid %d uid %u: %s", peer.pid, peer.uid, strerror(-r));
		else if (!peer.authorised)
			log_msg("refused peer pid %d uid %u: uid not allowed", peer.pid, peer.uid);
		else
			log_msg("handed descriptors to pid %d uid %u", peer.pid, peer.uid);
	}
	unlink(opt->socket_path);
	return r;
}

int main(int argc, char **argv)
{
	struct options opt = {
	    .pin_dir = DEFAULT_PIN_DIR,
	    .socket_path = DEFAULT_SOCKET,
	    .ring_size = DEFAULT_RING_SIZE,
	    .max_call_bytes = CLEARTAP_DEFAULT_MAX_CALL_BYTES,
	};
	struct objects objects;
	struct objects_config cfg;
	unsigned attached, present;
	int r, ncpus;

	if (parse_options(argc, argv, &opt) < 0)
		return EXIT_FAILURE;
	verbose = opt.verbose;
	libbpf_set_print(libbpf_log);
	ncpus = get_nprocs_conf();
	if (!opt.ring_shards)
		opt.ring_shards =
		    ncpus < DEFAULT_RING_SHARDS ? (uint32_t)ncpus : DEFAULT_RING_SHARDS;

	if (check_privileges() < 0) {
		log_msg(
		    "not privileged: run as root, or with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN");
		return EXIT_FAILURE;
	}
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

	cfg = (struct objects_config){
	    .pin_dir = opt.pin_dir,
	    .ring_size = opt.ring_size,
	    .ring_shards = opt.ring_shards,
	    .max_call_bytes = opt.max_call_bytes,
	};
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

	attach_targets(&opt, &objects, &attached, &present);
	log_msg("%u TLS library files probed (%u newly attached)", present, attached);

	r = opt.attach_only ? 0 : serve(&opt, &objects);
	objects_close(&objects);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
