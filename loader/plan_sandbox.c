/* SPDX-License-Identifier: Apache-2.0 */
#include "plan_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleartap/events.h"
#include "ct_macro.h"
#include "privileges.h"
#include "seccomp_policy.h"

#define CHILD_FILE_FD 3
#define CHILD_PLAN_FD 4
#define CHILD_MEMORY  (512u << 20) /* libelf reads symbol tables; node's are ~10 MB */
#define CHILD_CPU_S   10
#define CHILD_WAIT_MS (CHILD_CPU_S * 1000 + 2000)

struct plan_message {
	int32_t result;
	uint32_t reserved;
	struct tls_probe_plan plan;
};

/* Everything the child keeps is fd 3 (the file) and fd 4 (the pipe); it never returns. */
static void __attribute__((noreturn)) run_child(const struct plan_sandbox *sb, int fd, int out)
{
	static struct plan_message msg;
	const struct rlimit memory = {CHILD_MEMORY, CHILD_MEMORY}, cpu = {CHILD_CPU_S, CHILD_CPU_S},
			    none = {0, 0};
	int file_fd = fcntl(fd, F_DUPFD, 64), plan_fd = fcntl(out, F_DUPFD, 64);
	const uint8_t *p = (const uint8_t *)&msg;
	size_t left = sizeof(msg);

	if (file_fd < 0 || plan_fd < 0 || dup2(file_fd, CHILD_FILE_FD) < 0 ||
	    dup2(plan_fd, CHILD_PLAN_FD) < 0 || close_range(CHILD_PLAN_FD + 1, ~0u, 0) < 0)
		_exit(2);
	/* stdin/out/err too: the planner has nothing to say but its plan */
	close_range(0, CHILD_FILE_FD - 1, 0);
	/* the loader's user; a loader started without CAP_SETUID (--attach-only with a narrow
	 * bounding set) gives its child at least no capability at all */
	if ((geteuid() == 0 || privileges_any_capability()) &&
	    privileges_drop(sb->uid, sb->gid) < 0 &&
	    (privileges_shed(&(bool){false}) < 0 || privileges_any_capability()))
		_exit(2);
	/* no new descriptor or file, bounded memory and time; then only the two fds are usable */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || setrlimit(RLIMIT_AS, &memory) < 0 ||
	    setrlimit(RLIMIT_CPU, &cpu) < 0 || setrlimit(RLIMIT_FSIZE, &none) < 0 ||
	    setrlimit(RLIMIT_NOFILE, &none) < 0 ||
	    seccomp_install(planner_child_rules, planner_child_rules_count) < 0)
		_exit(2);
	msg.result = tls_probe_plan(CHILD_FILE_FD, &sb->kernel, &msg.plan);
	while (left) {
		ssize_t n = write(CHILD_PLAN_FD, p, left);

		if (n <= 0)
			_exit(3);
		p += n;
		left -= (size_t)n;
	}
	_exit(0);
}

/* The whole message, or -ECHILD when the child stops short or overruns its time. */
static int read_message(int fd, struct plan_message *msg)
{
	uint8_t *p = (uint8_t *)msg;
	size_t got = 0;
	const uint64_t deadline = ct_monotonic_ms() + CHILD_WAIT_MS;

	while (got < sizeof(*msg)) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		uint64_t now = ct_monotonic_ms();
		ssize_t n;

		if (now >= deadline)
			return -ECHILD;
		if (poll(&pfd, 1, (int)(deadline - now)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		n = read(fd, p + got, sizeof(*msg) - got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -ECHILD;
		got += (size_t)n;
	}
	return 0;
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/*
 * The child may have been subverted by the file it parsed: its plan is taken apart number by
 * number. What it can still choose is where, inside that one file, the probes go.
 */
static int check_plan(const struct plan_message *msg, uint64_t file_size,
		      struct tls_probe_plan *ret_plan)
{
	struct tls_probe_plan plan = msg->plan;

	if (!terminated(plan.missing, sizeof(plan.missing)) ||
	    !terminated(plan.why, sizeof(plan.why)))
		return -EBADMSG;
	if (msg->result < 0) {
		if (msg->result != -ENOENT && msg->result != -ENOEXEC && msg->result != -EIO &&
		    msg->result != -ENOMEM && msg->result != -ENOTSUP)
			return -EBADMSG;
		/* only the texts are kept from a failed plan */
		*ret_plan = (struct tls_probe_plan){.library_name = ""};
		memcpy(ret_plan->missing, plan.missing, sizeof(plan.missing));
		memcpy(ret_plan->why, plan.why, sizeof(plan.why));
		/* TLS code found but not probed: its report names the library */
		if (msg->result == -ENOTSUP && plan.library == TLS_LIB_GO)
			ret_plan->library = TLS_LIB_GO;
		return msg->result;
	}
	/* names, links and cookies follow from the library and the sites: derived here */
	if (plan.n_functions == 0 || tls_probe_plan_rebuild(&plan) < 0)
		return -EBADMSG;
	for (size_t i = 0; i < plan.n_functions; i++) {
		const struct tls_function_plan *f = &plan.functions[i];
		const struct planner_plan *s = &f->sites;

		if (f->offset == 0 || f->offset >= file_size || s->entry_offset == 0 ||
		    s->entry_offset >= file_size || s->exit_offset >= file_size ||
		    s->callee_offset >= file_size ||
		    !terminated(s->entry_insn, sizeof(s->entry_insn)) ||
		    !terminated(s->exit_insn, sizeof(s->exit_insn)) ||
		    !terminated(s->reason, sizeof(s->reason)))
			return -EBADMSG;
		for (size_t k = 0; k < s->n_returns; k++)
			if (s->return_offsets[k] <= f->offset || s->return_offsets[k] >= file_size)
				return -EBADMSG;
	}
	*ret_plan = plan;
	return 0;
}

int plan_sandboxed(const struct plan_sandbox *sb, int fd, struct tls_probe_plan *ret_plan)
{
	static struct plan_message msg;
	_cleanup_close_ int rd = -1, wr = -1;
	int pipe_fds[2], status, r;
	struct stat st;
	pid_t child;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (pipe2(pipe_fds, O_CLOEXEC) < 0)
		return -errno;
	rd = pipe_fds[0];
	wr = pipe_fds[1];
	child = fork();
	if (child < 0)
		return -errno;
	if (child == 0)
		run_child(sb, fd, wr);
	ct_closep(&wr);
	memset(&msg, 0, sizeof(msg));
	r = read_message(rd, &msg);
	if (r < 0)
		kill(child, SIGKILL);
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return -ECHILD;
	if (r < 0)
		return r;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -ECHILD;
	return check_plan(&msg, (uint64_t)st.st_size, ret_plan);
}

const char *plan_error_text(int error)
{
	switch (error) {
	case -ENOENT:
		return "no OpenSSL or GnuTLS data functions found";
	case -ENOEXEC:
		return "not an ELF file";
	case -ECHILD:
		return "the sandboxed planner failed on it (killed, or over its limits)";
	case -EBADMSG:
		return "the sandboxed planner's plan did not hold up";
	case -ENOTSUP:
		return "TLS code cleartap cannot probe safely";
	default:
		return strerror(-error);
	}
}

void plan_error_describe(int error, const struct tls_probe_plan *plan, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s%s", plan_error_text(error), plan->why[0] ? ": " : "",
		 plan->why, plan->missing[0] ? "; missing " : "", plan->missing);
}
