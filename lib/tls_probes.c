/* SPDX-License-Identifier: Apache-2.0 */
#include "tls_probes.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleartap/events.h"
#include "cleartap/handoff.h"

#include "ct_macro.h"
#include "elf_symbols.h"
#include "go_binary.h"
#include "uprobe_link.h"

/* What the entry program reads of each function: the TLS object, the buffer or fd, *len. */
#define ARG_OBJ                                                                                    \
	{                                                                                          \
		1, 8                                                                               \
	}
#define ARG_BUF                                                                                    \
	{                                                                                          \
		2, 8                                                                               \
	}
#define ARG_FD                                                                                     \
	{                                                                                          \
		2, 4                                                                               \
	}
#define ARG_LENPTR                                                                                 \
	{                                                                                          \
		4, 8                                                                               \
	}

struct probed_function {
	const char *name;
	enum cleartap_tls_func func;
	bool required;
	enum cleartap_call_contract contract; /* 0: entry only */
	struct planner_arg args[3];	      /* object, buffer (or fd), size_t * */
	size_t n_args;
	/*
	 * Functions of one group call the same internal function with (object, buffer, size,
	 * size_t *) and its _ex contract (OpenSSL 1.1.1+: ssl_write_internal, ssl_read_internal).
	 * A uretprobe there may be their exit, but only when every member of the group is found
	 * calling the same function: that cross-check is what makes the contract safe to assume.
	 */
	unsigned callee_group;
};

static const struct probed_function openssl_functions[] = {
    {"SSL_write", CLEARTAP_FN_SSL_WRITE, true, CLEARTAP_CONTRACT_INT, {ARG_OBJ, ARG_BUF}, 2, 1},
    {"SSL_read", CLEARTAP_FN_SSL_READ, true, CLEARTAP_CONTRACT_INT, {ARG_OBJ, ARG_BUF}, 2, 2},
    /* OpenSSL >= 1.1.1 */
    {"SSL_write_ex",
     CLEARTAP_FN_SSL_WRITE_EX,
     false,
     CLEARTAP_CONTRACT_EX,
     {ARG_OBJ, ARG_BUF, ARG_LENPTR},
     3,
     1},
    {"SSL_read_ex",
     CLEARTAP_FN_SSL_READ_EX,
     false,
     CLEARTAP_CONTRACT_EX,
     {ARG_OBJ, ARG_BUF, ARG_LENPTR},
     3,
     2},
    {"SSL_set_fd", CLEARTAP_FN_SSL_SET_FD, false, 0, {ARG_OBJ, ARG_FD}, 2, 0}, /* fd hint */
    {"SSL_free", CLEARTAP_FN_SSL_FREE, false, 0, {ARG_OBJ}, 1, 0},	       /* session end */
};

static const struct probed_function gnutls_functions[] = {
    {"gnutls_record_send",
     CLEARTAP_FN_GNUTLS_SEND,
     true,
     CLEARTAP_CONTRACT_SSIZE,
     {ARG_OBJ, ARG_BUF},
     2,
     0},
    {"gnutls_record_recv",
     CLEARTAP_FN_GNUTLS_RECV,
     true,
     CLEARTAP_CONTRACT_SSIZE,
     {ARG_OBJ, ARG_BUF},
     2,
     0},
    {"gnutls_deinit", CLEARTAP_FN_GNUTLS_DEINIT, false, 0, {ARG_OBJ}, 1, 0}, /* session end */
};

/*
 * Go (1.17+, register ABI): (*Conn).Write(b []byte) (int, error) has the receiver in rax and b's
 * pointer in rbx, and returns n in rax. The exits are its return instructions (no uretprobes in
 * Go), and its calls are the goroutine's, not the thread's.
 */
static const struct probed_function go_functions[] = {
    {"crypto/tls.(*Conn).Write",
     CLEARTAP_FN_GO_WRITE,
     true,
     CLEARTAP_CONTRACT_SSIZE,
     {ARG_OBJ, ARG_BUF},
     2,
     0},
    {"crypto/tls.(*Conn).Read",
     CLEARTAP_FN_GO_READ,
     true,
     CLEARTAP_CONTRACT_SSIZE,
     {ARG_OBJ, ARG_BUF},
     2,
     0},
    {"crypto/tls.(*Conn).Close", CLEARTAP_FN_GO_CLOSE, false, 0, {ARG_OBJ}, 1, 0}, /* end */
    /* the handshake reads ahead: a first Read may be served from it, without a syscall */
    {"crypto/tls.(*Conn).handshakeContext",
     CLEARTAP_FN_GO_HANDSHAKE,
     false,
     CLEARTAP_CONTRACT_HANDSHAKE,
     {ARG_OBJ},
     1,
     0},
};

#define GO_FIRST_MINOR 17 /* the register ABI; before it, arguments are on the stack */

static const struct {
	enum tls_library library;
	const char *name;
	enum planner_abi abi;
	const struct probed_function *functions;
	size_t n;
} libraries[] = {
    {TLS_LIB_OPENSSL, "openssl", PLANNER_ABI_SYSV, openssl_functions,
     CT_ARRAY_SIZE(openssl_functions)},
    {TLS_LIB_GNUTLS, "gnutls", PLANNER_ABI_SYSV, gnutls_functions, CT_ARRAY_SIZE(gnutls_functions)},
    {TLS_LIB_GO, "go", PLANNER_ABI_GO, go_functions, CT_ARRAY_SIZE(go_functions)},
};

const char *tls_probe_function_name(uint32_t func)
{
	static const char *const names[] = {
	    [CLEARTAP_FN_SSL_WRITE] = "SSL_write",
	    [CLEARTAP_FN_SSL_READ] = "SSL_read",
	    [CLEARTAP_FN_SSL_WRITE_EX] = "SSL_write_ex",
	    [CLEARTAP_FN_SSL_READ_EX] = "SSL_read_ex",
	    [CLEARTAP_FN_SSL_SET_FD] = "SSL_set_fd",
	    [CLEARTAP_FN_SSL_FREE] = "SSL_free",
	    [CLEARTAP_FN_GNUTLS_SEND] = "gnutls_record_send",
	    [CLEARTAP_FN_GNUTLS_RECV] = "gnutls_record_recv",
	    [CLEARTAP_FN_GNUTLS_DEINIT] = "gnutls_deinit",
	    [CLEARTAP_FN_SYS_READ] = "read",
	    [CLEARTAP_FN_SYS_WRITE] = "write",
	    [CLEARTAP_FN_SYS_READV] = "readv",
	    [CLEARTAP_FN_SYS_WRITEV] = "writev",
	    [CLEARTAP_FN_SYS_RECVFROM] = "recvfrom",
	    [CLEARTAP_FN_SYS_SENDTO] = "sendto",
	    [CLEARTAP_FN_SYS_RECVMSG] = "recvmsg",
	    [CLEARTAP_FN_SYS_SENDMSG] = "sendmsg",
	    [CLEARTAP_FN_GO_WRITE] = "crypto/tls.(*Conn).Write",
	    [CLEARTAP_FN_GO_READ] = "crypto/tls.(*Conn).Read",
	    [CLEARTAP_FN_GO_CLOSE] = "crypto/tls.(*Conn).Close",
	    [CLEARTAP_FN_GO_HANDSHAKE] = "crypto/tls.(*Conn).handshakeContext",
	};

	return func < CT_ARRAY_SIZE(names) && names[func] ? names[func] : "";
}

static void note_missing(struct tls_probe_plan *plan, const char *name)
{
	size_t used = strlen(plan->missing);

	snprintf(plan->missing + used, sizeof(plan->missing) - used, "%s%s", used ? "," : "", name);
}

/* The planner reads code only from the file's executable segments. */
struct code_reader {
	int fd;
	const struct elf_exec_range *ranges;
	size_t n_ranges;
};

static long read_code(void *ctx, uint64_t offset, uint8_t *buf, size_t len)
{
	const struct code_reader *reader = ctx;

	for (size_t i = 0; i < reader->n_ranges; i++) {
		const struct elf_exec_range *r = &reader->ranges[i];
		ssize_t n;

		if (offset < r->offset || offset >= r->offset + r->size)
			continue;
		if (len > r->offset + r->size - offset)
			len = r->offset + r->size - offset;
		n = pread(reader->fd, buf, len, (off_t)offset);
		return n < 0 ? -errno : (long)n;
	}
	return -EFAULT;
}

static int plan_function(const struct planner_kernel *kernel, struct code_reader *reader,
			 enum planner_abi abi, const struct probed_function *f,
			 const struct elf_function *sym, bool callee_contract,
			 struct planner_plan *ret)
{
	struct planner_request req = {
	    .offset = sym->offset,
	    .abi = abi,
	    .size = sym->size,
	    .args = f->args,
	    .n_args = f->n_args,
	    .needs_exit = f->contract != 0,
	    .callee_contract = callee_contract,
	};

	return planner_plan(kernel, read_code, reader, &req, ret);
}

/*
 * A callee exit is only sound when every member of the function's group calls the same
 * internal function. And a uretprobe there runs for every caller of that function: when a
 * member has an exit instruction of its own (Debian's SSL_write at +56), the uretprobe would
 * add a trap and a return trampoline to each of its calls (nginx measured 0.56x against 0.95x).
 * Then the members without one fall back instead: the busy servers call SSL_read/SSL_write.
 */
static int settle_callee_groups(const struct planner_kernel *kernel, struct code_reader *reader,
				const struct probed_function *f, const struct elf_function *syms,
				size_t n, struct planner_plan *plans)
{
	for (unsigned group = 1; group <= 2; group++) {
		uint64_t callee = 0;
		size_t members = 0;
		bool agree = true, own_exit = false;

		for (size_t i = 0; i < n; i++) {
			if (f[i].callee_group != group || !syms[i].offset)
				continue;
			members++;
			agree &=
			    plans[i].callee_offset && (!callee || callee == plans[i].callee_offset);
			callee = plans[i].callee_offset;
			own_exit |= plans[i].exit == PLANNER_EXIT_INSTRUCTION;
		}
		if (agree && members >= 2 && !own_exit)
			continue;
		for (size_t i = 0; i < n; i++) {
			int r;

			if (f[i].callee_group != group || !syms[i].offset ||
			    plans[i].exit != PLANNER_EXIT_CALLEE_URETPROBE)
				continue;
			r = plan_function(kernel, reader, PLANNER_ABI_SYSV, &f[i], &syms[i], false,
					  &plans[i]);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int add_site(struct tls_link_plan *link, uint64_t offset, uint64_t cookie)
{
	for (size_t i = 0; i < link->n; i++)
		if (link->offsets[i] == offset && link->cookies[i] == cookie)
			return 0; /* a callee two functions share: one probe */
	if (link->n == CT_TLS_SITES_MAX)
		return -E2BIG;
	link->offsets[link->n] = offset;
	link->cookies[link->n++] = cookie;
	return 0;
}

static int add_function(struct tls_probe_plan *plan, enum planner_abi abi,
			const struct probed_function *f, const struct elf_function *sym,
			const struct planner_plan *sites)
{
	bool callee = sites->exit == PLANNER_EXIT_CALLEE_URETPROBE;
	/* on the call into the internal function, its arguments are read: its contract holds */
	uint32_t contract = callee ? CLEARTAP_CONTRACT_EX : f->contract;
	uint8_t regs[3] = {CLEARTAP_REG_RDI, CLEARTAP_REG_RSI, CLEARTAP_REG_RCX};
	uint64_t shared = (callee ? CLEARTAP_COOKIE_SHARED : 0) |
			  (abi == PLANNER_ABI_GO ? CLEARTAP_COOKIE_GOROUTINE : 0);
	uint64_t entry_cookie, exit_cookie;
	int r = 0;

	for (size_t k = 0; k < f->n_args; k++)
		regs[k] = sites->entry_regs[k];
	if (callee)
		regs[2] = CLEARTAP_REG_RCX; /* the callee's size_t * (its 4th argument) */
	entry_cookie = CLEARTAP_COOKIE(f->func, contract, regs[0], regs[1], regs[2]) | shared;
	/* a shared exit ends whichever of its callers' calls is pending: no function of its own */
	exit_cookie = (callee ? 0 : (uint64_t)f->func) | (uint64_t)contract << 8 | shared;

	if (plan->n_functions == CT_TLS_PROBES_MAX)
		return -E2BIG;
	plan->functions[plan->n_functions++] = (struct tls_function_plan){
	    .name = f->name, .func = f->func, .offset = sym->offset, .sites = *sites};
	r = add_site(&plan->links[TLS_LINK_ENTRY], sites->entry_offset, entry_cookie);
	if (r == 0 && sites->exit == PLANNER_EXIT_INSTRUCTION)
		r = add_site(&plan->links[TLS_LINK_EXIT], sites->exit_offset, exit_cookie);
	else if (r == 0 && sites->exit == PLANNER_EXIT_RETURNS)
		for (size_t i = 0; r == 0 && i < sites->n_returns; i++)
			r = add_site(&plan->links[TLS_LINK_EXIT], sites->return_offsets[i],
				     exit_cookie);
	else if (r == 0 && sites->exit != PLANNER_EXIT_NONE)
		r = add_site(&plan->links[TLS_LINK_RETURN], sites->exit_offset, exit_cookie);
	return r;
}

/* Go before 1.17 passes arguments on the stack: never guessed at, said. */
static int check_go_version(int fd, struct tls_probe_plan *plan)
{
	struct go_version v;
	int r = go_version_fd(fd, &v);

	if (r == -ENOENT || r == -EBADMSG) {
		snprintf(plan->why, sizeof(plan->why), "Go symbols without %s build info",
			 r == -ENOENT ? "any" : "readable");
		return -ENOTSUP;
	}
	if (r < 0)
		return r;
	if (v.minor < GO_FIRST_MINOR) {
		snprintf(plan->why, sizeof(plan->why),
			 "%s: before Go 1.17's register ABI, not supported", v.text);
		return -ENOTSUP;
	}
	return 0;
}

static int plan_library(int fd, const struct planner_kernel *kernel, size_t k,
			struct tls_probe_plan *ret_plan)
{
	const struct probed_function *f = libraries[k].functions;
	const size_t n = libraries[k].n;
	const enum planner_abi abi = libraries[k].abi;
	const char *names[CT_TLS_PROBES_MAX];
	struct elf_function syms[CT_TLS_PROBES_MAX];
	struct elf_exec_range ranges[ELF_MAX_EXEC_RANGES];
	struct planner_plan plans[CT_TLS_PROBES_MAX];
	struct tls_probe_plan plan = {.library = libraries[k].library,
				      .library_name = libraries[k].name};
	struct code_reader reader = {.fd = fd, .ranges = ranges};
	bool complete = true;
	int r;

	for (size_t i = 0; i < n; i++)
		names[i] = f[i].name;
	r = elf_resolve_functions_fd(fd, names, n, syms, ranges, &reader.n_ranges);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	if (abi == PLANNER_ABI_GO && (r = check_go_version(fd, &plan)) < 0) {
		*ret_plan = plan;
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		if (!syms[i].offset) {
			note_missing(&plan, names[i]);
			complete &= !f[i].required;
			continue;
		}
		r = plan_function(kernel, &reader, abi, &f[i], &syms[i], f[i].callee_group != 0,
				  &plans[i]);
		if (r == -ENOTSUP)
			snprintf(plan.why, sizeof(plan.why), "%s: %s", names[i], plans[i].reason);
		if (r < 0) {
			*ret_plan = plan;
			return r;
		}
	}
	if (!complete) {
		*ret_plan = plan;
		return -ENOENT;
	}
	r = settle_callee_groups(kernel, &reader, f, syms, n, plans);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (syms[i].offset)
			r = add_function(&plan, abi, &f[i], &syms[i], &plans[i]);
	if (r < 0)
		return r;
	*ret_plan = plan;
	return 0;
}

int tls_probe_plan(int fd, const struct planner_kernel *kernel, struct tls_probe_plan *ret_plan)
{
	int r = -ENOENT;

	_Static_assert(CT_ARRAY_SIZE(openssl_functions) <= CT_TLS_PROBES_MAX, "plan too small");
	_Static_assert(CT_ARRAY_SIZE(gnutls_functions) <= CT_TLS_PROBES_MAX, "plan too small");
	_Static_assert(CT_ARRAY_SIZE(go_functions) <= CT_TLS_PROBES_MAX, "plan too small");
	_Static_assert(PLANNER_MAX_RETURNS <= CLEARTAP_HANDOFF_MAX_RETURNS, "report too small");
	_Static_assert(CT_TLS_PROBES_MAX <= CLEARTAP_HANDOFF_MAX_SITES, "report too small");
	*ret_plan = (struct tls_probe_plan){}; /* defined even when nothing matches */
	for (size_t k = 0; k < CT_ARRAY_SIZE(libraries); k++) {
		r = plan_library(fd, kernel, k, ret_plan);
		if (r != -ENOENT)
			return r; /* planned, or not an ELF file */
	}
	return r;
}

int tls_probe_plan_rebuild(struct tls_probe_plan *plan)
{
	struct tls_probe_plan rebuilt = {.library = plan->library};
	size_t k = 0;
	uint32_t seen = 0;

	while (k < CT_ARRAY_SIZE(libraries) && libraries[k].library != plan->library)
		k++;
	if (k == CT_ARRAY_SIZE(libraries) || plan->n_functions > CT_TLS_PROBES_MAX ||
	    !memchr(plan->missing, '\0', sizeof(plan->missing)))
		return -EBADMSG;
	rebuilt.library_name = libraries[k].name;
	memcpy(rebuilt.missing, plan->missing, sizeof(plan->missing));
	memcpy(rebuilt.why, plan->why, sizeof(plan->why));
	for (size_t i = 0; i < plan->n_functions; i++) {
		const struct tls_function_plan *fp = &plan->functions[i];
		const struct probed_function *f = NULL;
		const struct elf_function sym = {.offset = fp->offset};

		for (size_t j = 0; j < libraries[k].n; j++)
			if (libraries[k].functions[j].func == fp->func)
				f = &libraries[k].functions[j];
		/* not this library's, or twice; Go's exits are its returns, nothing else's are */
		if (!f || (seen & (1u << fp->func)) || fp->sites.exit > PLANNER_EXIT_RETURNS ||
		    (fp->sites.exit == PLANNER_EXIT_RETURNS) !=
			(libraries[k].abi == PLANNER_ABI_GO && f->contract != 0) ||
		    fp->sites.n_returns > PLANNER_MAX_RETURNS)
			return -EBADMSG;
		seen |= 1u << fp->func;
		for (size_t a = 0; a < f->n_args; a++)
			if (fp->sites.entry_regs[a] >= PLANNER_REG_COUNT)
				return -EBADMSG;
		if (add_function(&rebuilt, libraries[k].abi, f, &sym, &fp->sites) < 0)
			return -EBADMSG;
	}
	*plan = rebuilt;
	return 0;
}

void tls_links_close(struct tls_links *links)
{
	for (int l = 0; l < TLS_LINK__MAX; l++) {
		for (size_t i = 0; i < links->n[l]; i++)
			close(links->fd[l][i]);
		links->n[l] = 0;
	}
}

static int attach_link_kind(const struct tls_programs *progs, const char *path,
			    const struct tls_link_plan *lp, enum tls_link kind, bool per_site,
			    size_t *n, int *fds)
{
	const bool retprobe = kind == TLS_LINK_RETURN, return_prog = kind != TLS_LINK_ENTRY;
	int prog_fd = return_prog ? progs->return_fd : progs->entry_fd;
	int r;

	if (!per_site) {
		if (progs->for_cookie)
			return -EOPNOTSUPP; /* one program for every site: the cookies tell them
					       apart */
		r = uprobe_multi_attach(prog_fd, path, lp->offsets, lp->cookies, lp->n, retprobe,
					&fds[0]);
		*n = r == 0;
		return r;
	}
	for (size_t i = 0; i < lp->n; i++) {
		uint64_t cookie = lp->cookies[i];

		if (progs->for_cookie) {
			prog_fd = progs->for_cookie(progs->userdata, return_prog, cookie);
			if (prog_fd < 0)
				return prog_fd;
			cookie = 0; /* the instance carries it */
		}
		r = uprobe_perf_attach(prog_fd, path, lp->offsets[i], cookie, retprobe,
				       progs->perf_links, &fds[*n]);
		if (r < 0)
			return r;
		(*n)++;
	}
	return 0;
}

int tls_probe_attach(const struct tls_programs *progs, const char *path,
		     const struct tls_probe_plan *plan, bool per_site, struct tls_links *ret_links)
{
	struct tls_links links = {};
	int r = 0;

	for (int l = 0; l < TLS_LINK__MAX && r == 0; l++) {
		const struct tls_link_plan *lp = &plan->links[l];

		if (lp->n == 0)
			continue;
		r = attach_link_kind(progs, path, lp, l, per_site, &links.n[l], links.fd[l]);
	}
	if (r < 0) {
		tls_links_close(&links);
		return r;
	}
	*ret_links = links;
	return 0;
}

static void copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	memset(dst + n, 0, size - n);
}

static void report_site(const struct tls_function_plan *fp, struct cleartap_handoff_site *ret)
{
	const struct planner_plan *p = &fp->sites;

	memset(ret, 0, sizeof(*ret));
	ret->func = (uint8_t)fp->func;
	ret->exit_kind = (uint8_t)p->exit; /* enum planner_exit mirrors enum cleartap_exit_kind */
	ret->entry_emulated = p->entry_emulated;
	ret->exit_emulated = p->exit_emulated;
	ret->entry_rel = (uint32_t)(p->entry_offset - fp->offset);
	ret->exit_rel = p->exit == PLANNER_EXIT_NONE ? 0 : (int64_t)(p->exit_offset - fp->offset);
	ret->function_offset = fp->offset;
	copy_cut(ret->entry_insn, sizeof(ret->entry_insn), p->entry_insn);
	copy_cut(ret->exit_insn, sizeof(ret->exit_insn), p->exit_insn);
	copy_cut(ret->reason, sizeof(ret->reason), p->reason);
	if (p->exit == PLANNER_EXIT_RETURNS)
		for (size_t i = 0; i < p->n_returns && i < CLEARTAP_HANDOFF_MAX_RETURNS; i++)
			ret->return_rel[ret->n_returns++] =
			    (uint32_t)(p->return_offsets[i] - fp->offset);
}

void tls_probe_report(const struct tls_probe_plan *plan, uint32_t status, uint64_t dev,
		      uint64_t ino, const char *path, const char *detail,
		      struct cleartap_handoff_attachment *ret_report)
{
	_Static_assert((int)PLANNER_EXIT_FIRST_URETPROBE == (int)CLEARTAP_EXIT_FIRST_URETPROBE &&
			   (int)PLANNER_EXIT_CALLEE_URETPROBE ==
			       (int)CLEARTAP_EXIT_CALLEE_URETPROBE &&
			   (int)PLANNER_EXIT_INSTRUCTION == (int)CLEARTAP_EXIT_INSTRUCTION,
		       "exit kinds");
	memset(ret_report, 0, sizeof(*ret_report));
	ret_report->status = status;
	ret_report->library = plan->library == TLS_LIB_OPENSSL	? CLEARTAP_LIB_OPENSSL
			      : plan->library == TLS_LIB_GNUTLS ? CLEARTAP_LIB_GNUTLS
			      : plan->library == TLS_LIB_GO	? CLEARTAP_LIB_GO
								: CLEARTAP_LIB_UNKNOWN;
	ret_report->n_functions = (uint32_t)plan->n_functions;
	ret_report->dev = dev;
	ret_report->ino = ino;
	copy_cut(ret_report->path, sizeof(ret_report->path), path);
	copy_cut(ret_report->detail, sizeof(ret_report->detail), detail);
	for (size_t i = 0; i < plan->n_functions && i < CLEARTAP_HANDOFF_MAX_SITES; i++)
		report_site(&plan->functions[i], &ret_report->sites[ret_report->n_sites++]);
}

void tls_probe_describe_site(const struct cleartap_handoff_site *s, char *buf, size_t size)
{
	char entry[9], exit[9], reason[65], exit_text[160];
	const char *how = s->exit_emulated ? "emulated" : "single-stepped";

	ct_copy_field(entry, sizeof(entry), s->entry_insn, sizeof(s->entry_insn));
	ct_copy_field(exit, sizeof(exit), s->exit_insn, sizeof(s->exit_insn));
	ct_copy_field(reason, sizeof(reason), s->reason, sizeof(s->reason));
	switch (s->exit_kind) {
	case CLEARTAP_EXIT_INSTRUCTION:
		snprintf(exit_text, sizeof(exit_text), ", exit %+lld %s (%s)",
			 (long long)s->exit_rel, exit, how);
		break;
	case CLEARTAP_EXIT_URETPROBE:
		snprintf(exit_text, sizeof(exit_text), ", exit uretprobe at %+lld %s (%s)",
			 (long long)s->exit_rel, exit, how);
		break;
	case CLEARTAP_EXIT_CALLEE_URETPROBE:
		snprintf(exit_text, sizeof(exit_text),
			 ", exit uretprobe on its internal function at %+lld %s (%s)",
			 (long long)s->exit_rel, exit, how);
		break;
	case CLEARTAP_EXIT_FIRST_URETPROBE:
		snprintf(exit_text, sizeof(exit_text), ", exit uretprobe at +0 %s (%s)", exit, how);
		break;
	case CLEARTAP_EXIT_RETURNS: {
		int used = snprintf(exit_text, sizeof(exit_text),
				    ", exit on %u %s (%s):", s->n_returns, exit, how);

		for (uint32_t i = 0; i < s->n_returns && i < CLEARTAP_HANDOFF_MAX_RETURNS &&
				     used > 0 && (size_t)used < sizeof(exit_text);
		     i++)
			used += snprintf(exit_text + used, sizeof(exit_text) - (size_t)used, " +%u",
					 s->return_rel[i]);
		break;
	}
	default:
		exit_text[0] = '\0';
		break;
	}
	snprintf(buf, size, "%s: entry +%u %s (%s)%s%s%s%s", tls_probe_function_name(s->func),
		 s->entry_rel, entry, s->entry_emulated ? "emulated" : "single-stepped", exit_text,
		 reason[0] ? " [" : "", reason, reason[0] ? "]" : "");
}
