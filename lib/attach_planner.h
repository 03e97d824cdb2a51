/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The attach planner: where a probe goes inside one x86-64 function.
 *
 * A uprobe costs little on an instruction the kernel emulates (relative call/jmp/jcc, nop, push)
 * and several times more on one it must single-step. The planner decodes a function (Zydis) and
 * picks
 *   - an entry site: the first emulated instruction of the function's straight-line prefix at
 *     which every argument the program reads is still in a register (followed through
 *     register-to-register moves); else the first instruction;
 *   - an exit site, in order of preference: an emulated instruction that every return path from
 *     the entry site passes and after which rax is never written (it holds the return value);
 *     a uretprobe planted at the entry site when the stack is still as at entry; a uretprobe on
 *     the one internal function the prefix calls, when its first instruction is emulated and
 *     the caller says the callee's contract serves; else a uretprobe on the first instruction.
 * A site that some return path skips is never chosen: that path would lose data silently.
 *
 * Pure computation on bytes read through a callback: no I/O of its own, no allocation beyond
 * one bounded buffer, so it runs unchanged in a sandbox.
 */
#ifndef CT_ATTACH_PLANNER_H
#define CT_ATTACH_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLANNER_MAX_ARGS    6
#define PLANNER_MAX_RETURNS 16	  /* return instructions of one function probed as its exit */
#define PLANNER_MAX_CODE    16384 /* bytes of one function analysed for exits */
#define PLANNER_INSN_NAME   16
#define PLANNER_REASON	    64

/* Which instructions the running kernel's uprobes emulate instead of single-stepping. */
struct planner_kernel {
	unsigned major, minor;
	bool push_emulated; /* push %reg: arch/x86/kernel/uprobes.c push_setup_xol_ops, 4.16+ */
};

/* From a release string ("6.1.0-27-amd64"); -EINVAL when it is not one. */
int planner_kernel_from_release(const char *release, struct planner_kernel *ret_kernel);
/* The running kernel's. */
int planner_kernel_running(struct planner_kernel *ret_kernel);

/* Bytes of the probed file at a file offset: returns the bytes read (may be short) or -errno. */
typedef long (*planner_read_fn)(void *ctx, uint64_t file_offset, uint8_t *buf, size_t len);

/* One argument the entry program reads: its 1-based position and the bytes it needs of it. */
struct planner_arg {
	uint8_t index; /* 1..6 in the request's ABI: rdi, rsi, rdx, rcx, r8, r9 (System V) */
	uint8_t width; /* 4: an int (a 32-bit copy keeps it), 8: a pointer */
};

/* The calling convention of the function: where arguments are, what a call clobbers. */
enum planner_abi {
	PLANNER_ABI_SYSV = 0, /* C: arguments in rdi, rsi, rdx, rcx, r8, r9 */
	/*
	 * Go's ABIInternal (1.17+): arguments in rax, rbx, rcx, rdi, rsi, r8; r14 holds the
	 * goroutine, a call clobbers all but rsp, rbp, r14 and r15. Never a uretprobe: Go moves
	 * goroutine stacks, and a return address rewritten by the kernel crashes its unwinder.
	 */
	PLANNER_ABI_GO = 1,
};

struct planner_request {
	uint64_t offset; /* file offset of the function's first instruction */
	enum planner_abi abi;
	uint64_t size; /* symbol size; 0 when unknown (only the entry is planned then) */
	const struct planner_arg *args;
	size_t n_args;
	bool needs_exit; /* the program reads the return value */
	/*
	 * The function only wraps one internal function with the same arguments and the same
	 * return contract (OpenSSL's SSL_write_ex -> ssl_write_internal): a uretprobe on that
	 * callee may serve as the exit, with the entry on the call itself.
	 */
	bool callee_contract;
};

enum planner_exit {
	PLANNER_EXIT_NONE = 0,		   /* needs_exit was false */
	PLANNER_EXIT_INSTRUCTION = 1,	   /* a uprobe at exit_offset; rax = the return value */
	PLANNER_EXIT_URETPROBE = 2,	   /* a uretprobe at exit_offset == entry_offset */
	PLANNER_EXIT_CALLEE_URETPROBE = 3, /* a uretprobe at exit_offset, the callee's first insn */
	PLANNER_EXIT_FIRST_URETPROBE = 4,  /* fallback: a uretprobe on the first instruction */
	PLANNER_EXIT_RETURNS = 5,	   /* uprobes on every return instruction (Go) */
};

/* x86-64 general registers, numbered like enum cleartap_reg (events.h). */
enum planner_reg {
	PLANNER_REG_RAX,
	PLANNER_REG_RBX,
	PLANNER_REG_RCX,
	PLANNER_REG_RDX,
	PLANNER_REG_RSI,
	PLANNER_REG_RDI,
	PLANNER_REG_RBP,
	PLANNER_REG_RSP,
	PLANNER_REG_R8,
	PLANNER_REG_R9,
	PLANNER_REG_R10,
	PLANNER_REG_R11,
	PLANNER_REG_R12,
	PLANNER_REG_R13,
	PLANNER_REG_R14,
	PLANNER_REG_R15,
	PLANNER_REG_COUNT,
};

struct planner_plan {
	uint64_t entry_offset;
	uint8_t entry_regs[PLANNER_MAX_ARGS]; /* by request arg: where it is at the entry site */
	bool entry_emulated;
	char entry_insn[PLANNER_INSN_NAME]; /* mnemonic, "call" */
	enum planner_exit exit;
	uint64_t exit_offset;
	bool exit_emulated;
	char exit_insn[PLANNER_INSN_NAME];
	uint64_t callee_offset; /* the one internal function the prefix calls, 0 if none */
	/* PLANNER_EXIT_RETURNS: each ret reachable from the entry; exit_offset is the first */
	uint64_t return_offsets[PLANNER_MAX_RETURNS];
	uint8_t n_returns;
	char reason[PLANNER_REASON]; /* why the entry or the exit fell back, "" when neither */
};

/*
 * Plan one function. Returns 0, -ENOEXEC when its first instruction does not decode, or the
 * read callback's error. A function the planner cannot improve on gets the fallback plan
 * (first instruction, uretprobe) with the reason, never an error; except in Go's ABI, which has
 * no fallback: -ENOTSUP when some return path cannot be covered (ret_plan->reason says why).
 */
int planner_plan(const struct planner_kernel *kernel, planner_read_fn read, void *ctx,
		 const struct planner_request *req, struct planner_plan *ret_plan);

/* Is the instruction at the start of code emulated by that kernel's uprobes? */
bool planner_insn_emulated(const struct planner_kernel *kernel, const uint8_t *code, size_t len);

#endif
