/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The attach planner on hand-made functions (no emulated site, an argument overwritten before
 * the first emulated instruction, several return paths, a tail jmp, an argument moved by the
 * prologue; Go's ABI: returns, escapes) and on real machine code: Debian's libssl.so.3 and
 * libgnutls.so.30, and Node's built-in OpenSSL. The real-code expectations are the instructions of
 * those builds (objdump shows them); a different build of the same library is checked for soundness
 * only.
 *
 * test_attach_planner --show FILE prints the plan for any OpenSSL or GnuTLS file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach_planner.h"
#include "cleartap/handoff.h"
#include "ct_test.h"
#include "tls_probes.h"

static const struct planner_kernel kernel_618 = {6, 18, true};
static const struct planner_kernel kernel_no_push = {4, 15, false};

struct code {
	const uint8_t *bytes;
	size_t len;
	uint64_t base; /* file offset of bytes[0] */
};

static long read_code(void *ctx, uint64_t offset, uint8_t *buf, size_t len)
{
	const struct code *c = ctx;

	if (offset < c->base || offset >= c->base + c->len)
		return -EFAULT;
	if (len > c->base + c->len - offset)
		len = c->base + c->len - offset;
	memcpy(buf, c->bytes + (offset - c->base), len);
	return (long)len;
}

static const struct planner_arg obj_buf[] = {{1, 8}, {2, 8}};

/* Plan the function at code offset `at` (size bytes) of a hand-made code blob. */
static struct planner_plan plan_blob_exit(const struct planner_kernel *k, const uint8_t *bytes,
					  size_t len, size_t at, size_t size,
					  const struct planner_arg *args, size_t n_args,
					  bool callee, bool needs_exit)
{
	struct code c = {bytes, len, 0x1000};
	struct planner_request req = {
	    .offset = 0x1000 + at,
	    .size = size,
	    .args = args,
	    .n_args = n_args,
	    .needs_exit = needs_exit,
	    .callee_contract = callee,
	};
	struct planner_plan plan = {};

	CHECK(planner_plan(k, read_code, &c, &req, &plan) == 0);
	return plan;
}

static struct planner_plan plan_blob(const struct planner_kernel *k, const uint8_t *bytes,
				     size_t len, size_t at, size_t size,
				     const struct planner_arg *args, size_t n_args, bool callee)
{
	return plan_blob_exit(k, bytes, len, at, size, args, n_args, callee, true);
}

static void test_emulated_instructions(void)
{
	static const struct {
		uint8_t bytes[8];
		size_t len;
		bool emulated_618, emulated_no_push;
	} cases[] = {
	    {{0xe8, 0, 0, 0, 0}, 5, true, true},	       /* call rel32 */
	    {{0xe9, 0, 0, 0, 0}, 5, true, true},	       /* jmp rel32 */
	    {{0xeb, 0x10}, 2, true, true},		       /* jmp rel8 */
	    {{0x7e, 0x03}, 2, true, true},		       /* jle rel8 */
	    {{0x0f, 0x85, 0, 0, 0, 0}, 6, true, true},	       /* jne rel32 */
	    {{0x90}, 1, true, true},			       /* nop */
	    {{0xf3, 0x90}, 2, true, true},		       /* pause: prefix + nop */
	    {{0x41, 0x90}, 2, false, false},		       /* xchg %eax,%r8d */
	    {{0x66, 0x90}, 2, false, false},		       /* 0x66: the kernel refuses */
	    {{0x66, 0xe8, 0, 0}, 4, false, false},	       /* callw */
	    {{0x55}, 1, true, false},			       /* push %rbp */
	    {{0x41, 0x56}, 2, true, false},		       /* push %r14 */
	    {{0x48, 0x55}, 2, false, false},		       /* rex.W push: not emulated */
	    {{0x48, 0x83, 0xec, 0x18}, 4, false, false},       /* sub $0x18,%rsp */
	    {{0xf3, 0x0f, 0x1e, 0xfa}, 4, false, false},       /* endbr64 */
	    {{0x0f, 0x1f, 0x44, 0x00, 0x00}, 5, false, false}, /* nopl: single-stepped */
	    {{0xc3}, 1, false, false},			       /* ret */
	    {{0xff, 0x25, 0, 0, 0, 0}, 6, false, false},       /* jmp *mem (PLT) */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (planner_insn_emulated(&kernel_618, cases[i].bytes, cases[i].len) !=
		    cases[i].emulated_618) {
			fprintf(stderr, "case %zu on 6.18\n", i);
			CHECK(0);
		}
		if (planner_insn_emulated(&kernel_no_push, cases[i].bytes, cases[i].len) !=
		    cases[i].emulated_no_push) {
			fprintf(stderr, "case %zu before 4.16\n", i);
			CHECK(0);
		}
	}
}

static void test_kernel_table(void)
{
	struct planner_kernel k;

	CHECK(planner_kernel_from_release("5.10.0-30-amd64", &k) == 0 && k.push_emulated);
	CHECK(planner_kernel_from_release("6.1.0-27-amd64", &k) == 0 && k.push_emulated);
	CHECK(planner_kernel_from_release("4.15.0-213-generic", &k) == 0 && !k.push_emulated);
	CHECK(planner_kernel_from_release("4.16.0", &k) == 0 && k.push_emulated);
	CHECK(planner_kernel_from_release("junk", &k) == -EINVAL);
	CHECK(planner_kernel_from_release("", &k) == -EINVAL);
}

/*
 * Debian's SSL_write shape: sub; canary; test; js error; mov; movslq; call internal; test; jle;
 * mov; canary check (jne -> __stack_chk_fail); add; ret. Error path joins at the canary check.
 */
static const uint8_t ssl_write_like[] = {
    0x48, 0x83, 0xec, 0x18,			 /* +0  sub $0x18,%rsp */
    0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0, /* +4  mov %fs:0x28,%rax */
    0x48, 0x89, 0x44, 0x24, 0x08,		 /* +13 mov %rax,0x8(%rsp) */
    0x31, 0xc0,					 /* +18 xor %eax,%eax */
    0x85, 0xd2,					 /* +20 test %edx,%edx */
    0x78, 0x29,					 /* +22 js +65 */
    0x48, 0x89, 0xe1,				 /* +24 mov %rsp,%rcx */
    0x48, 0x63, 0xd2,				 /* +27 movslq %edx,%rdx */
    0xe8, 0x00, 0x01, 0x00, 0x00,		 /* +30 call +291 (outside) */
    0x85, 0xc0,					 /* +35 test %eax,%eax */
    0x7e, 0x03,					 /* +37 jle +42 */
    0x8b, 0x04, 0x24,				 /* +39 mov (%rsp),%eax */
    0x48, 0x8b, 0x54, 0x24, 0x08,		 /* +42 mov 0x8(%rsp),%rdx */
    0x64, 0x48, 0x2b, 0x14, 0x25, 0x28, 0, 0, 0, /* +47 sub %fs:0x28,%rdx */
    0x75, 0x0c,					 /* +56 jne +70 */
    0x48, 0x83, 0xc4, 0x18,			 /* +58 add $0x18,%rsp */
    0xc3,					 /* +62 ret */
    0xb8, 0xff, 0xff, 0xff, 0xff,		 /* +63 mov $-1,%eax (error path) */
    0xeb, 0xe4,					 /* +68 jmp +42 */
    0xe8, 0x00, 0x02, 0x00, 0x00,		 /* +70 call __stack_chk_fail (last) */
};

static void test_several_return_paths(void)
{
	static uint8_t code[sizeof(ssl_write_like)];
	struct planner_plan p;

	memcpy(code, ssl_write_like, sizeof(code));
	code[23] = 63 - 24; /* js to the error path at +63 */
	p = plan_blob(&kernel_618, code, sizeof(code), 0, sizeof(code), obj_buf, 2, false);
	CHECK_U64(p.entry_offset, 0x1000 + 22);
	CHECK(p.entry_emulated);
	CHECK_STR(p.entry_insn, "js");
	CHECK_U64(p.entry_regs[0], PLANNER_REG_RDI);
	CHECK_U64(p.entry_regs[1], PLANNER_REG_RSI);
	/* +37 jle is skipped by the error path; +56 jne is passed by both, rax final there */
	CHECK_U64(p.exit, PLANNER_EXIT_INSTRUCTION);
	CHECK_U64(p.exit_offset, 0x1000 + 56);
	CHECK_STR(p.exit_insn, "jnz"); /* Zydis names jne so */
	CHECK_STR(p.reason, "");
}

/* The same function whose error path returns on its own: no single exit instruction. */
static void test_return_path_skips_every_site(void)
{
	static uint8_t code[sizeof(ssl_write_like)];
	struct planner_plan p;

	memcpy(code, ssl_write_like, sizeof(code));
	code[23] = 63 - 24;
	code[68] = 0xc3; /* error path: mov $-1,%eax; ret */
	code[69] = 0x90;
	p = plan_blob(&kernel_618, code, sizeof(code), 0, sizeof(code), obj_buf, 2, false);
	/* entry +22 is at depth -0x18: no uretprobe there; no callee contract: fallback */
	CHECK_U64(p.exit, PLANNER_EXIT_FIRST_URETPROBE);
	CHECK_U64(p.entry_offset, 0x1000);
	CHECK_U64(p.exit_offset, 0x1000);
	CHECK(!p.entry_emulated);
	CHECK_STR(p.reason, "no emulated site on every return path");
}

/* No instruction the kernel emulates before the function's first control transfer is a ret. */
static void test_no_emulated_site(void)
{
	static const uint8_t code[] = {
	    0x48, 0x89, 0xf8, /* mov %rdi,%rax */
	    0x48, 0x01, 0xf0, /* add %rsi,%rax */
	    0xc3,	      /* ret */
	};
	struct planner_plan p =
	    plan_blob(&kernel_618, code, sizeof(code), 0, sizeof(code), obj_buf, 2, false);

	CHECK_U64(p.entry_offset, 0x1000);
	CHECK(!p.entry_emulated);
	CHECK_U64(p.exit, PLANNER_EXIT_FIRST_URETPROBE);
	CHECK_STR(p.reason, "nothing emulated before +6 ret");
}

/* The buffer register is overwritten before the first emulated instruction. */
static void test_argument_overwritten(void)
{
	static const uint8_t code[] = {
	    0x48, 0x83, 0xec, 0x08,    /* +0 sub $8,%rsp */
	    0x31, 0xf6,		       /* +4 xor %esi,%esi: buf gone */
	    0xe8, 0,	1,    0,    0, /* +6 call */
	    0x48, 0x83, 0xc4, 0x08,    /* +11 add $8,%rsp */
	    0xc3,		       /* +15 ret */
	};
	struct planner_plan p =
	    plan_blob(&kernel_618, code, sizeof(code), 0, sizeof(code), obj_buf, 2, false);

	CHECK_U64(p.entry_offset, 0x1000);
	CHECK_U64(p.exit, PLANNER_EXIT_FIRST_URETPROBE);
	CHECK_STR(p.reason, "argument lost at +4 xor, before any emulated site");
}

/* The prologue moves the arguments to callee-saved registers: followed there. */
static void test_argument_moved(void)
{
	static const uint8_t code[] = {
	    0x41, 0x54,		       /* +0 push %r12 */
	    0x41, 0x89, 0xf4,	       /* +2 mov %esi,%r12d */
	    0x55,		       /* +5 push %rbp */
	    0x48, 0x89, 0xfd,	       /* +6 mov %rdi,%rbp */
	    0x53,		       /* +9 push %rbx */
	    0x31, 0xff,		       /* +10 xor %edi,%edi */
	    0x31, 0xf6,		       /* +12 xor %esi,%esi */
	    0xe8, 0,	1,    0,    0, /* +14 call */
	    0x5b, 0x5d, 0x41, 0x5c,    /* pop rbx, rbp, r12 */
	    0xc3,
	};
	static const struct planner_arg obj_fd[] = {{1, 8}, {2, 4}};
	static const struct planner_arg obj_buf64[] = {{1, 8}, {2, 8}};
	struct planner_plan p;

	/* without push emulation the first site is the call, arguments in rbp and r12 (entry only,
	 * like SSL_set_fd) */
	p = plan_blob_exit(&kernel_no_push, code, sizeof(code), 0, sizeof(code), obj_fd, 2, false,
			   false);
	CHECK_U64(p.entry_offset, 0x1000 + 14);
	CHECK_U64(p.entry_regs[0], PLANNER_REG_RBP);
	CHECK_U64(p.entry_regs[1], PLANNER_REG_R12);
	/* a 32-bit copy does not keep a pointer: fall back */
	p = plan_blob_exit(&kernel_no_push, code, sizeof(code), 0, sizeof(code), obj_buf64, 2,
			   false, false);
	CHECK_U64(p.entry_offset, 0x1000);
	CHECK_STR(p.reason, "argument lost at +12 xor, before any emulated site");
	/* with an exit needed and none better, the entry joins the uretprobe on +0 */
	p = plan_blob(&kernel_no_push, code, sizeof(code), 0, sizeof(code), obj_fd, 2, false);
	CHECK_U64(p.entry_offset, 0x1000);
	CHECK_U64(p.exit, PLANNER_EXIT_FIRST_URETPROBE);
	/* with push emulation the first instruction serves, with rsp as at entry */
	p = plan_blob(&kernel_618, code, sizeof(code), 0, sizeof(code), obj_fd, 2, false);
	CHECK_U64(p.entry_offset, 0x1000);
	CHECK(p.entry_emulated);
	CHECK_U64(p.entry_regs[0], PLANNER_REG_RDI);
	CHECK_U64(p.exit, PLANNER_EXIT_URETPROBE);
	CHECK_U64(p.exit_offset, 0x1000);
}

/* GnuTLS's gnutls_record_send: xor; xor; jmp elsewhere. */
static void test_tail_jmp(void)
{
	static const uint8_t code[] = {
	    0x45, 0x31, 0xc0,		  /* +0 xor %r8d,%r8d */
	    0x31, 0xc9,			  /* +3 xor %ecx,%ecx */
	    0xe9, 0x00, 0x10, 0x00, 0x00, /* +5 jmp far away */
	};
	struct planner_plan p =
	    plan_blob(&kernel_618, code, sizeof(code), 0, sizeof(code), obj_buf, 2, false);

	/* the jmp is emulated and the stack is as at entry: a uretprobe there sees the return */
	CHECK_U64(p.entry_offset, 0x1000 + 5);
	CHECK_STR(p.entry_insn, "jmp");
	CHECK_U64(p.exit, PLANNER_EXIT_URETPROBE);
	CHECK_U64(p.exit_offset, 0x1000 + 5);
}

/* SSL_write_ex's shape: sub $8; call internal; normalise eax; add; ret. */
static void test_callee_exit(void)
{
	static const uint8_t code[] = {
	    /* the internal function at +0: push %r14; ...; ret */
	    0x41, 0x56, 0x31, 0xc0, 0x41, 0x5e, 0xc3, 0x90,
	    /* the wrapper at +8 */
	    0x48, 0x83, 0xec, 0x08,	  /* +0 sub $8,%rsp */
	    0xe8, 0xef, 0xff, 0xff, 0xff, /* +4 call -> wrapper+9-17 = blob +0 */
	    0x31, 0xd2,			  /* +9 xor %edx,%edx */
	    0x85, 0xc0,			  /* +11 test %eax,%eax */
	    0x0f, 0x48, 0xc2,		  /* +13 cmovs %edx,%eax */
	    0x48, 0x83, 0xc4, 0x08,	  /* +16 add $8,%rsp */
	    0xc3,			  /* +20 ret */
	};
	static const struct planner_arg ex_args[] = {{1, 8}, {2, 8}, {4, 8}};
	struct planner_plan p;

	p = plan_blob(&kernel_618, code, sizeof(code), 8, sizeof(code) - 8, ex_args, 3, true);
	CHECK_U64(p.entry_offset, 0x1000 + 8 + 4);
	CHECK_STR(p.entry_insn, "call");
	CHECK_U64(p.exit, PLANNER_EXIT_CALLEE_URETPROBE);
	CHECK_U64(p.exit_offset, 0x1000);
	CHECK_U64(p.callee_offset, 0x1000);
	CHECK_U64(p.entry_regs[2], PLANNER_REG_RCX);
	/* without the contract the callee is not assumed to be the wrapped function */
	p = plan_blob(&kernel_618, code, sizeof(code), 8, sizeof(code) - 8, ex_args, 3, false);
	CHECK_U64(p.exit, PLANNER_EXIT_FIRST_URETPROBE);
	/* a callee starting with push is single-stepped before 4.16: fallback */
	p = plan_blob(&kernel_no_push, code, sizeof(code), 8, sizeof(code) - 8, ex_args, 3, true);
	CHECK_U64(p.exit, PLANNER_EXIT_FIRST_URETPROBE);
}

/* --- real machine code --- */

static int open_plan(const char *path, const struct planner_kernel *k, struct tls_probe_plan *p)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = tls_probe_plan(fd, k, p);
	close(fd);
	return r;
}

static void describe(const struct tls_probe_plan *plan, char out[][256])
{
	struct cleartap_handoff_attachment a;

	tls_probe_report(plan, CLEARTAP_ATTACH_ATTACHED, 0, 0, "", "", &a);
	for (uint32_t i = 0; i < a.n_sites; i++)
		tls_probe_describe_site(&a.sites[i], out[i], 256);
}

/* Every plan, whatever the build: each site inside its function, exits where they must be. */
static void check_sound(const struct tls_probe_plan *plan)
{
	for (size_t i = 0; i < plan->n_functions; i++) {
		const struct tls_function_plan *f = &plan->functions[i];

		CHECK(f->sites.entry_offset >= f->offset);
		CHECK(f->sites.entry_offset < f->offset + 4096);
		if (f->sites.exit == PLANNER_EXIT_FIRST_URETPROBE) {
			CHECK_U64(f->sites.exit_offset, f->offset);
			CHECK_U64(f->sites.entry_offset, f->offset);
			CHECK(f->sites.reason[0] != '\0');
		}
		if (f->sites.exit == PLANNER_EXIT_URETPROBE)
			CHECK_U64(f->sites.exit_offset, f->sites.entry_offset);
		if (f->sites.exit == PLANNER_EXIT_INSTRUCTION)
			CHECK(f->sites.exit_offset > f->sites.entry_offset);
	}
}

#define DEBIAN_LIBSSL "/usr/lib/x86_64-linux-gnu/libssl.so.3"
#define DEBIAN_GNUTLS "/usr/lib/x86_64-linux-gnu/libgnutls.so.30"
#define NODE	      "/usr/bin/node"

/* Plan a real file and compare its description with the build's expected lines. */
static void check_plan(const char *path, const struct planner_kernel *k,
		       const char *const *expected, size_t n, struct tls_probe_plan *ret_plan)
{
	char lines[CT_TLS_PROBES_MAX][256];

	CHECK(open_plan(path, k, ret_plan) == 0);
	CHECK_U64(ret_plan->n_functions, n);
	describe(ret_plan, lines);
	for (size_t i = 0; i < n && i < ret_plan->n_functions; i++)
		CHECK_STR(lines[i], expected[i]);
	check_sound(ret_plan);
}

/* Plan a Go-ABI function of a hand-made blob; returns planner_plan's result. */
static int plan_go_blob(const uint8_t *bytes, size_t len, struct planner_plan *plan)
{
	struct code c = {bytes, len, 0x1000};
	struct planner_request req = {
	    .offset = 0x1000,
	    .size = len,
	    .abi = PLANNER_ABI_GO,
	    .args = obj_buf,
	    .n_args = 2,
	    .needs_exit = true,
	};

	*plan = (struct planner_plan){};
	return planner_plan(&kernel_618, read_code, &c, &req, plan);
}

/*
 * Go's prologue: the stack check's jbe is the entry (rax, rbx untouched before it), and every
 * ret is an exit, the deferreturn one no branch reaches included; never a uretprobe.
 */
static void test_go_returns(void)
{
	static const uint8_t code[] = {
	    0x49, 0x3b, 0x66, 0x10,	  /* 0: cmp 0x10(%r14),%rsp */
	    0x76, 0x12,			  /* 4: jbe 24 (morestack) */
	    0x48, 0x83, 0xec, 0x18,	  /* 6: sub $0x18,%rsp */
	    0x48, 0x85, 0xc9,		  /* 10: test %rcx,%rcx */
	    0x74, 0x05,			  /* 13: je 20 */
	    0x48, 0x83, 0xc4, 0x18,	  /* 15: add $0x18,%rsp */
	    0xc3,			  /* 19: ret */
	    0x48, 0x83, 0xc4, 0x18,	  /* 20: add $0x18,%rsp, then the morestack path */
	    0xe8, 0x00, 0x00, 0x00, 0x00, /* 24: call (morestack) */
	    0xeb, 0xe1,			  /* 29: jmp 0 */
	    0x48, 0x31, 0xc0,		  /* 31: xor %rax,%rax (deferreturn: no branch here) */
	    0xc3,			  /* 34: ret */
	};
	struct planner_plan plan;

	CHECK(plan_go_blob(code, sizeof(code), &plan) == 0);
	CHECK(plan.entry_offset == 0x1004 && plan.entry_emulated);
	CHECK(plan.entry_regs[0] == PLANNER_REG_RAX && plan.entry_regs[1] == PLANNER_REG_RBX);
	CHECK(plan.exit == PLANNER_EXIT_RETURNS);
	CHECK(plan.n_returns == 2);
	CHECK(plan.return_offsets[0] == 0x1000 + 19 && plan.return_offsets[1] == 0x1000 + 34);
	CHECK(plan.exit_offset == plan.return_offsets[0] && !plan.exit_emulated);
}

/* A Go function that leaves by a jump (tail or indirect) has a return no probe sees: refused. */
static void test_go_escape_refused(void)
{
	static const uint8_t tail[] = {
	    0x49, 0x3b, 0x66, 0x10, /* cmp 0x10(%r14),%rsp */
	    0x76, 0x02,		    /* jbe 8 */
	    0xff, 0xe2,		    /* jmp *%rdx */
	    0xc3,		    /* ret */
	};
	static const uint8_t no_ret[] = {
	    0x49, 0x3b, 0x66, 0x10, /* cmp 0x10(%r14),%rsp */
	    0x76, 0x02,		    /* jbe 8 */
	    0x0f, 0x0b,		    /* ud2 */
	    0x0f, 0x0b,		    /* ud2 */
	};
	struct planner_plan plan;

	CHECK(plan_go_blob(tail, sizeof(tail), &plan) == -ENOTSUP);
	CHECK(strstr(plan.reason, "leaves the function at +6 jmp") != NULL);
	CHECK(plan_go_blob(no_ret, sizeof(no_ret), &plan) == -ENOTSUP);
	CHECK(strstr(plan.reason, "no return") != NULL);
}

static void test_debian_libssl(void)
{
	/* libssl3 3.0.x of Debian 12, as installed on these machines */
	static const char *const expected[] = {
	    "SSL_write: entry +22 js (emulated), exit +56 jnz (emulated)",
	    "SSL_read: entry +22 js (emulated), exit +56 jnz (emulated)",
	    /* a uretprobe on ssl_write_internal would tax every SSL_write: fallback */
	    "SSL_write_ex: entry +0 sub (single-stepped), exit uretprobe at +0 sub "
	    "(single-stepped) [no emulated site on every return path]",
	    "SSL_read_ex: entry +0 sub (single-stepped), exit uretprobe at +0 sub "
	    "(single-stepped) [no emulated site on every return path]",
	    "SSL_set_fd: entry +0 push (emulated)",
	    "SSL_free: entry +3 jz (emulated)",
	};
	struct tls_probe_plan plan;
	char lines[CT_TLS_PROBES_MAX][256];

	check_plan(DEBIAN_LIBSSL, &kernel_618, expected, 6, &plan);
	/* the callee is ssl_write_internal for both write functions: the group agrees */
	CHECK_U64(plan.functions[0].sites.callee_offset, plan.functions[2].sites.callee_offset);
	CHECK_U64(plan.functions[0].sites.callee_offset, plan.functions[0].offset - 992);
	CHECK_U64(plan.links[TLS_LINK_ENTRY].n, 6);
	CHECK_U64(plan.links[TLS_LINK_EXIT].n, 2);
	CHECK_U64(plan.links[TLS_LINK_RETURN].n, 2);
	/* SSL_write reads rdi and rsi at +22; the _ex functions their size_t * in rcx */
	CHECK_U64(plan.functions[0].sites.entry_regs[1], PLANNER_REG_RSI);
	CHECK_U64(plan.functions[2].sites.entry_regs[2], PLANNER_REG_RCX);

	/* before push emulation SSL_set_fd's first site is the call, its arguments unmoved */
	CHECK(open_plan(DEBIAN_LIBSSL, &kernel_no_push, &plan) == 0);
	describe(&plan, lines);
	CHECK_STR(lines[0], expected[0]);
	CHECK_STR(lines[4], "SSL_set_fd: entry +10 call (emulated)");
	CHECK_U64(plan.functions[4].sites.entry_regs[0], PLANNER_REG_RDI);
	CHECK_U64(plan.functions[4].sites.entry_regs[1], PLANNER_REG_RSI);
	check_sound(&plan);
}

/* Without a sibling that exits on its own, the wrappers share the internal functions' exits. */
static void test_callee_group(void)
{
	/* SSL_write's shape with the error path returning by itself: no exit instruction */
	static uint8_t code[0x2000];
	struct planner_plan p;

	memset(code, 0xcc, sizeof(code));
	memcpy(code + 0x1000, ssl_write_like, sizeof(ssl_write_like));
	code[0x1000 + 23] = 63 - 24;
	code[0x1000 + 68] = 0xc3;
	/* call +30 -> 0x1000 + 35 + rel = 0x100 (an internal function starting with push) */
	{
		int32_t rel = 0x100 - (0x1000 + 35);

		memcpy(code + 0x1000 + 31, &rel, 4);
	}
	code[0x100] = 0x55; /* push %rbp */
	code[0x101] = 0xc3;
	p = plan_blob(&kernel_618, code, sizeof(code), 0x1000, sizeof(ssl_write_like), obj_buf, 2,
		      true);
	/* the call is reached only by falling through js: the registers there are known */
	CHECK_U64(p.exit, PLANNER_EXIT_CALLEE_URETPROBE);
	CHECK_U64(p.entry_offset, 0x1000 + 0x1000 + 30);
	CHECK_U64(p.exit_offset, 0x1000 + 0x100);
	/* a jump into the chain before the call: another way in, registers unknown */
	code[0x1000 + 69] = 0xeb; /* jmp back to +27 from +69 */
	code[0x1000 + 70] = (uint8_t)(27 - 71);
	code[0x1000 + 68] = 0x90;
	p = plan_blob(&kernel_618, code, sizeof(code), 0x1000, sizeof(ssl_write_like), obj_buf, 2,
		      true);
	CHECK(p.exit != PLANNER_EXIT_CALLEE_URETPROBE);
}

static void test_debian_gnutls(void)
{
	static const char *const expected[] = {
	    "gnutls_record_send: entry +5 jmp (emulated), exit uretprobe at +5 jmp (emulated)",
	    "gnutls_record_recv: entry +0 sub (single-stepped), exit uretprobe at +0 sub "
	    "(single-stepped) [no emulated site on every return path]",
	    "gnutls_deinit: entry +3 jz (emulated)",
	};
	struct tls_probe_plan plan;

	check_plan(DEBIAN_GNUTLS, &kernel_618, expected, 3, &plan);
}

static void test_node(void)
{
	struct tls_probe_plan plan;
	char lines[CT_TLS_PROBES_MAX][256];

	/* Node's OpenSSL is its own build: every function starts with push %rbp */
	CHECK(open_plan(NODE, &kernel_618, &plan) == 0);
	CHECK_U64(plan.n_functions, 6);
	describe(&plan, lines);
	CHECK_STR(lines[0], "SSL_write: entry +0 push (emulated), exit uretprobe at +0 push "
			    "(emulated)");
	for (size_t i = 0; i < plan.n_functions; i++)
		CHECK(plan.functions[i].sites.entry_emulated);
	check_sound(&plan);
}

static int show(const char *path)
{
	struct planner_kernel k;
	struct tls_probe_plan plan;
	char lines[CT_TLS_PROBES_MAX][256];
	int r;

	if (planner_kernel_running(&k) < 0 || (r = open_plan(path, &k, &plan)) < 0) {
		fprintf(stderr, "%s: no plan\n", path);
		return 1;
	}
	describe(&plan, lines);
	for (size_t i = 0; i < plan.n_functions; i++)
		printf("%s\n", lines[i]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--show") == 0)
		return show(argv[2]);
	RUN(test_emulated_instructions);
	RUN(test_kernel_table);
	RUN(test_several_return_paths);
	RUN(test_return_path_skips_every_site);
	RUN(test_no_emulated_site);
	RUN(test_argument_overwritten);
	RUN(test_argument_moved);
	RUN(test_tail_jmp);
	RUN(test_callee_exit);
	RUN(test_callee_group);
	RUN(test_go_returns);
	RUN(test_go_escape_refused);
	RUN(test_debian_libssl);
	RUN(test_debian_gnutls);
	RUN(test_node);
	return TEST_EXIT();
}
