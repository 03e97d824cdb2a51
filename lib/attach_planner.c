/* SPDX-License-Identifier: Apache-2.0 */
#include "attach_planner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <Zydis/Zydis.h>

#include "ct_macro.h"

int planner_kernel_from_release(const char *release, struct planner_kernel *ret_kernel)
{
	unsigned major, minor;

	if (!release || sscanf(release, "%u.%u", &major, &minor) != 2)
		return -EINVAL;
	/*
	 * Version table, not a calibration: branch, call and nop emulation date from the first
	 * x86 uprobes (3.5); push %reg emulation from 4.16 (push_setup_xol_ops). Nothing else is
	 * emulated up to 6.18 (the single step of `sub $0x18,%rsp` is measured here).
	 */
	*ret_kernel = (struct planner_kernel){
	    .major = major,
	    .minor = minor,
	    .push_emulated = major > 4 || (major == 4 && minor >= 16),
	};
	return 0;
}

int planner_kernel_running(struct planner_kernel *ret_kernel)
{
	struct utsname u;

	if (uname(&u) < 0)
		return -errno;
	return planner_kernel_from_release(u.release, ret_kernel);
}

static bool is_legacy_prefix(uint8_t b)
{
	return b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e ||
	       b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65;
}

/* Mirrors arch/x86/kernel/uprobes.c: branch_setup_xol_ops and push_setup_xol_ops. */
bool planner_insn_emulated(const struct planner_kernel *kernel, const uint8_t *code, size_t len)
{
	bool operand_size = false;
	size_t i = 0;
	uint8_t rex = 0, op;

	while (i < len && i < 14 && is_legacy_prefix(code[i]))
		operand_size |= code[i++] == 0x66;
	if (i < len && (code[i] & 0xf0) == 0x40)
		rex = code[i++];
	if (i >= len)
		return false;
	op = code[i];
	/* the kernel refuses 0x66-prefixed branches (-ENOTSUPP): not even a single step */
	if (!operand_size) {
		if (op == 0xeb || op == 0xe9 || op == 0xe8 || (op >= 0x70 && op <= 0x7f))
			return true;
		if (op == 0x0f && i + 1 < len && code[i + 1] >= 0x80 && code[i + 1] <= 0x8f)
			return true;
		/* 41 90 is xchg %eax,%r8d, not a nop: never trust the kernel's shortcut there */
		if (op == 0x90 && !rex)
			return true;
	}
	/* push: one byte, or two with exactly the REX prefix 0x41 (push %r8..%r15) */
	if (kernel->push_emulated && op >= 0x50 && op <= 0x57)
		return (i == 0 && !rex) || (i == 1 && rex == 0x41);
	return false;
}

enum insn_kind {
	INSN_PLAIN,
	INSN_RET,
	INSN_JMP,	   /* direct, target valid */
	INSN_JCC,	   /* direct, target valid */
	INSN_CALL,	   /* direct, target valid */
	INSN_JMP_INDIRECT, /* switch table or tail call: unknown */
	INSN_CALL_INDIRECT,
	INSN_TRAP, /* int3, ud2, hlt: the path ends */
};

struct insn {
	uint32_t rel; /* from the function's first byte */
	uint8_t len;
	uint8_t kind; /* enum insn_kind */
	bool emulated;
	int8_t copy_src, copy_dst; /* register-to-register mov, -1 otherwise */
	uint8_t copy_width;	   /* bytes the copy keeps of its source */
	int32_t stack_delta;	   /* rsp change; INT32_MIN when unknown */
	uint16_t writes;	   /* registers (enum planner_reg) written */
	int64_t target;		   /* direct branches: target, from the first byte */
	char name[PLANNER_INSN_NAME];
};

#define REG_BIT(r)    ((uint16_t)(1u << (r)))
#define STACK_UNKNOWN INT32_MIN
#define CALLER_SAVED                                                                               \
	(REG_BIT(PLANNER_REG_RAX) | REG_BIT(PLANNER_REG_RCX) | REG_BIT(PLANNER_REG_RDX) |          \
	 REG_BIT(PLANNER_REG_RSI) | REG_BIT(PLANNER_REG_RDI) | REG_BIT(PLANNER_REG_R8) |           \
	 REG_BIT(PLANNER_REG_R9) | REG_BIT(PLANNER_REG_R10) | REG_BIT(PLANNER_REG_R11))

/* Go's ABIInternal keeps rsp, rbp (frame pointer), r14 (the goroutine) and r15 across calls. */
#define GO_CALL_CLOBBERS                                                                           \
	((uint16_t) ~(REG_BIT(PLANNER_REG_RSP) | REG_BIT(PLANNER_REG_RBP) |                        \
		      REG_BIT(PLANNER_REG_R14) | REG_BIT(PLANNER_REG_R15)))

static const uint8_t arg_registers[][PLANNER_MAX_ARGS] = {
    [PLANNER_ABI_SYSV] = {PLANNER_REG_RDI, PLANNER_REG_RSI, PLANNER_REG_RDX, PLANNER_REG_RCX,
			  PLANNER_REG_R8, PLANNER_REG_R9},
    [PLANNER_ABI_GO] = {PLANNER_REG_RAX, PLANNER_REG_RBX, PLANNER_REG_RCX, PLANNER_REG_RDI,
			PLANNER_REG_RSI, PLANNER_REG_R8},
};

/* The register argument k of the request is passed in. */
static uint8_t arg_register(const struct planner_request *req, size_t k)
{
	return arg_registers[req->abi][req->args[k].index - 1];
}

static int planner_reg(ZydisRegister reg)
{
	switch (ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg)) {
	case ZYDIS_REGISTER_RAX:
		return PLANNER_REG_RAX;
	case ZYDIS_REGISTER_RBX:
		return PLANNER_REG_RBX;
	case ZYDIS_REGISTER_RCX:
		return PLANNER_REG_RCX;
	case ZYDIS_REGISTER_RDX:
		return PLANNER_REG_RDX;
	case ZYDIS_REGISTER_RSI:
		return PLANNER_REG_RSI;
	case ZYDIS_REGISTER_RDI:
		return PLANNER_REG_RDI;
	case ZYDIS_REGISTER_RBP:
		return PLANNER_REG_RBP;
	case ZYDIS_REGISTER_RSP:
		return PLANNER_REG_RSP;
	case ZYDIS_REGISTER_R8:
		return PLANNER_REG_R8;
	case ZYDIS_REGISTER_R9:
		return PLANNER_REG_R9;
	case ZYDIS_REGISTER_R10:
		return PLANNER_REG_R10;
	case ZYDIS_REGISTER_R11:
		return PLANNER_REG_R11;
	case ZYDIS_REGISTER_R12:
		return PLANNER_REG_R12;
	case ZYDIS_REGISTER_R13:
		return PLANNER_REG_R13;
	case ZYDIS_REGISTER_R14:
		return PLANNER_REG_R14;
	case ZYDIS_REGISTER_R15:
		return PLANNER_REG_R15;
	default:
		return -1; /* rip, flags, vector and segment registers */
	}
}

static int decode_insn(const ZydisDecoder *decoder, const struct planner_kernel *kernel,
		       uint16_t call_clobbers, const uint8_t *code, size_t avail, uint32_t rel,
		       struct insn *ret_insn)
{
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	ZydisDecodedInstruction in;
	struct insn insn = {.rel = rel, .copy_src = -1, .copy_dst = -1};
	const char *name;

	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(decoder, code, avail, &in, ops)))
		return -ENOEXEC;
	insn.len = in.length;
	insn.emulated = planner_insn_emulated(kernel, code, in.length);
	name = ZydisMnemonicGetString(in.mnemonic);
	snprintf(insn.name, sizeof(insn.name), "%s", name ? name : "?");

	for (size_t i = 0; i < in.operand_count; i++) {
		int r;

		if (ops[i].type != ZYDIS_OPERAND_TYPE_REGISTER ||
		    !(ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
			continue;
		r = planner_reg(ops[i].reg.value);
		if (r >= 0)
			insn.writes |= REG_BIT(r);
	}

	switch (in.meta.category) {
	case ZYDIS_CATEGORY_RET:
		insn.kind = INSN_RET;
		break;
	case ZYDIS_CATEGORY_CALL:
	case ZYDIS_CATEGORY_UNCOND_BR:
	case ZYDIS_CATEGORY_COND_BR: {
		bool direct = ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && ops[0].imm.is_relative;

		if (in.meta.category == ZYDIS_CATEGORY_CALL) {
			insn.kind = direct ? INSN_CALL : INSN_CALL_INDIRECT;
			insn.writes |= call_clobbers; /* the ABI lets the callee clobber them */
		} else if (in.meta.category == ZYDIS_CATEGORY_UNCOND_BR) {
			insn.kind = direct ? INSN_JMP : INSN_JMP_INDIRECT;
		} else {
			insn.kind = direct ? INSN_JCC : INSN_JMP_INDIRECT;
		}
		if (direct)
			insn.target = (int64_t)rel + in.length + ops[0].imm.value.s;
		break;
	}
	case ZYDIS_CATEGORY_INTERRUPT:
		insn.kind = INSN_TRAP;
		break;
	default:
		if (in.mnemonic == ZYDIS_MNEMONIC_UD2 || in.mnemonic == ZYDIS_MNEMONIC_HLT)
			insn.kind = INSN_TRAP;
		break;
	}

	/* stack depth, for a uretprobe that must find the return address at (%rsp) */
	if (!(insn.writes & REG_BIT(PLANNER_REG_RSP)) || insn.kind != INSN_PLAIN)
		insn.stack_delta = 0;
	else if (in.mnemonic == ZYDIS_MNEMONIC_PUSH && in.operand_width == 64)
		insn.stack_delta = -8;
	else if (in.mnemonic == ZYDIS_MNEMONIC_POP && in.operand_width == 64)
		insn.stack_delta = 8;
	else if ((in.mnemonic == ZYDIS_MNEMONIC_SUB || in.mnemonic == ZYDIS_MNEMONIC_ADD) &&
		 ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		 ops[0].reg.value == ZYDIS_REGISTER_RSP &&
		 ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && ops[1].imm.value.s >= 0 &&
		 ops[1].imm.value.s < (1 << 20))
		insn.stack_delta =
		    (int32_t)(in.mnemonic == ZYDIS_MNEMONIC_SUB ? -ops[1].imm.value.s
								: ops[1].imm.value.s);
	else
		insn.stack_delta = STACK_UNKNOWN;

	/* mov %src,%dst (and movslq): the argument now lives in dst too */
	if ((in.mnemonic == ZYDIS_MNEMONIC_MOV || in.mnemonic == ZYDIS_MNEMONIC_MOVSXD) &&
	    in.operand_count_visible == 2 && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
	    ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
		int dst = planner_reg(ops[0].reg.value), src = planner_reg(ops[1].reg.value);

		if (dst >= 0 && src >= 0 && ops[0].size >= 32 && ops[1].size >= 32) {
			insn.copy_dst = (int8_t)dst;
			insn.copy_src = (int8_t)src;
			insn.copy_width = ops[0].size == 64 && ops[1].size == 64 ? 8 : 4;
		}
	}
	*ret_insn = insn;
	return 0;
}

struct function {
	ZydisDecoder decoder;
	struct insn *insns;
	size_t n;
	uint32_t code_len; /* bytes decoded */
	bool complete;	   /* the whole symbol was decoded */
};

static void set_reason(struct planner_plan *plan, const char *fmt, const struct insn *insn,
		       const char *what)
{
	if (plan->reason[0])
		return; /* the first reason is the one that matters */
	snprintf(plan->reason, sizeof(plan->reason), fmt, insn ? insn->rel : 0,
		 insn ? insn->name : "", what ? what : "");
}

/* Instruction index at a function-relative offset, or -1 when it is not an instruction start. */
static long insn_at(const struct function *f, int64_t rel)
{
	size_t lo = 0, hi = f->n;

	if (rel < 0 || rel >= f->code_len)
		return -1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (f->insns[mid].rel == rel)
			return (long)mid;
		if (f->insns[mid].rel < rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

enum path_end {
	END_NONE,     /* continues to the successors */
	END_RETURN,   /* ret: the function returns here */
	END_ESCAPE,   /* leaves the analysed code some other way: tail call, unknown jump */
	END_NORETURN, /* trap, or a call that is the function's last instruction */
};

/* Successors of instruction i (at most two), and how a path ends there. */
static enum path_end successors(const struct function *f, size_t i, long next[2], size_t *ret_n)
{
	const struct insn *insn = &f->insns[i];
	long fall = i + 1 < f->n ? (long)i + 1 : -1;
	long target;

	*ret_n = 0;
	switch (insn->kind) {
	case INSN_RET:
		return END_RETURN;
	case INSN_TRAP:
		return END_NORETURN;
	case INSN_JMP_INDIRECT:
		return END_ESCAPE;
	case INSN_JMP:
		target = insn_at(f, insn->target);
		if (target < 0)
			return END_ESCAPE;
		next[(*ret_n)++] = target;
		return END_NONE;
	case INSN_JCC:
		target = insn_at(f, insn->target);
		if (target < 0 || fall < 0)
			return END_ESCAPE;
		next[(*ret_n)++] = fall;
		next[(*ret_n)++] = target;
		return END_NONE;
	case INSN_CALL:
	case INSN_CALL_INDIRECT:
		/* a call nothing follows does not return (__stack_chk_fail, abort) */
		if (fall < 0)
			return f->complete ? END_NORETURN : END_ESCAPE;
		next[(*ret_n)++] = fall;
		return END_NONE;
	default:
		if (fall < 0)
			return END_ESCAPE;
		next[(*ret_n)++] = fall;
		return END_NONE;
	}
}

/*
 * Walk every path from `from`. With stop >= 0, paths end at stop and must all reach it
 * (no return or escape around it). With stop < 0, every instruction on the way must keep rax
 * and every path must end in a return (the value at `from` is the function's result).
 */
static bool walk_paths(const struct function *f, size_t from, long stop, uint8_t *seen, long *stack)
{
	bool reached = stop < 0;
	size_t sp = 0;

	memset(seen, 0, f->n);
	stack[sp++] = (long)from;
	seen[from] = 1;
	while (sp) {
		size_t i = (size_t)stack[--sp], n;
		long next[2];
		enum path_end end;

		if ((long)i == stop) {
			reached = true;
			continue;
		}
		end = successors(f, i, next, &n);
		/* a call that never returns (__stack_chk_fail) cannot change the result */
		if (stop < 0 && end != END_NORETURN &&
		    (f->insns[i].writes & REG_BIT(PLANNER_REG_RAX)))
			return false;
		if (end == END_ESCAPE || (end == END_RETURN && stop >= 0))
			return false;
		for (size_t k = 0; k < n; k++)
			if (!seen[next[k]]) {
				seen[next[k]] = 1;
				stack[sp++] = next[k];
			}
	}
	return reached;
}

/*
 * Every return instruction of the function, for an exit on each. All of them, not only those
 * the entry reaches by branches: Go's runtime also resumes a frame at its deferreturn epilogue
 * after a recovered panic. False when some instruction leaves the function another way (a tail
 * or indirect jump: that return is not ours to see) or there are more than fit.
 */
static bool collect_returns(const struct function *f, struct planner_plan *plan,
			    const struct planner_request *req)
{
	plan->n_returns = 0;
	for (size_t i = 0; i < f->n; i++) {
		const struct insn *insn = &f->insns[i];
		long next[2];
		size_t n;
		enum path_end end = successors(f, i, next, &n);

		if (end == END_ESCAPE) {
			set_reason(plan, "leaves the function at +%u %s%s: its return unseen", insn,
				   NULL);
			return false;
		}
		if (end != END_RETURN)
			continue;
		if (plan->n_returns == PLANNER_MAX_RETURNS) {
			set_reason(plan, "more than 16 returns (+%u %s%s)", insn, NULL);
			return false;
		}
		plan->return_offsets[plan->n_returns++] = req->offset + insn->rel;
	}
	return plan->n_returns > 0;
}

static int decode_function(const struct planner_kernel *kernel, planner_read_fn read, void *ctx,
			   const struct planner_request *req, struct function *f)
{
	size_t want = req->size ? req->size : 64; /* enough for a prefix without a symbol size */
	uint8_t *code;
	long got;
	int r = 0;

	if (want > PLANNER_MAX_CODE)
		want = PLANNER_MAX_CODE;
	code = malloc(want + sizeof(struct insn) * want);
	if (!code)
		return -ENOMEM;
	f->insns = (struct insn *)(code + want);
	got = read(ctx, req->offset, code, want);
	if (got < 0) {
		r = (int)got;
		goto out;
	}
	ZydisDecoderInit(&f->decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	f->code_len = (uint32_t)got;
	f->complete = req->size && (uint64_t)got == req->size;
	for (uint32_t rel = 0; rel < f->code_len;) {
		struct insn *insn = &f->insns[f->n];

		if (decode_insn(&f->decoder, kernel,
				req->abi == PLANNER_ABI_GO ? GO_CALL_CLOBBERS : CALLER_SAVED,
				code + rel, f->code_len - rel, rel, insn) < 0) {
			f->complete = false; /* data or a cut instruction: stop here */
			break;
		}
		rel += insn->len;
		f->n++;
	}
	if (f->n == 0)
		r = -ENOEXEC;
out:
	/* the instructions stay: move them to the front and drop the code bytes */
	if (r == 0) {
		memmove(code, f->insns, f->n * sizeof(struct insn));
		f->insns = (struct insn *)code;
	} else {
		free(code);
		f->insns = NULL;
	}
	return r;
}

/* Each argument where the ABI puts it: in its own register at the first instruction. */
static void arguments_at_entry(const struct planner_request *req, uint16_t holders[])
{
	for (size_t k = 0; k < req->n_args; k++)
		holders[k] = REG_BIT(arg_register(req, k));
}

/* The program reads each argument from its ABI register (the first instruction, a call). */
static void standard_entry_regs(const struct planner_request *req, struct planner_plan *plan)
{
	for (size_t k = 0; k < req->n_args; k++)
		plan->entry_regs[k] = arg_register(req, k);
}

/* Where each argument is held after insn, given where it was held before. */
static void follow_arguments(const struct insn *insn, const struct planner_request *req,
			     uint16_t holders[])
{
	for (size_t k = 0; k < req->n_args; k++) {
		bool copied = insn->copy_src >= 0 && (holders[k] & REG_BIT(insn->copy_src)) &&
			      insn->copy_width >= req->args[k].width;

		holders[k] &= (uint16_t)~insn->writes;
		if (copied)
			holders[k] |= REG_BIT(insn->copy_dst);
	}
}

/*
 * The straight-line prefix: track where each argument is held until the first emulated
 * instruction that still sees them all. Fills plan->entry_*; returns the entry index.
 */
static size_t plan_entry(const struct function *f, const struct planner_request *req,
			 struct planner_plan *plan, bool *ret_depth0)
{
	uint16_t holders[PLANNER_MAX_ARGS];
	int32_t depth = 0;
	long entry = -1;
	size_t i;

	arguments_at_entry(req, holders);
	for (i = 0; i < f->n; i++) {
		const struct insn *insn = &f->insns[i];
		bool all_held = true;

		for (size_t k = 0; k < req->n_args; k++)
			all_held &= holders[k] != 0;
		if (!all_held) {
			if (entry < 0)
				set_reason(plan,
					   "argument lost at +%u %s, before any emulated site%s",
					   insn > f->insns ? insn - 1 : insn, NULL);
			break;
		}
		if (insn->emulated && entry < 0) {
			entry = (long)i;
			*ret_depth0 = depth == 0;
			for (size_t k = 0; k < req->n_args; k++) {
				uint8_t std = arg_register(req, k);
				uint8_t r = std;

				if (!(holders[k] & REG_BIT(std)))
					r = (uint8_t)__builtin_ctz(holders[k]);
				plan->entry_regs[k] = r;
			}
		}
		if (entry >= 0 || insn->kind != INSN_PLAIN)
			break; /* the prefix ends at its first control transfer */
		follow_arguments(insn, req, holders);
		if (depth != STACK_UNKNOWN)
			depth = insn->stack_delta == STACK_UNKNOWN ? STACK_UNKNOWN
								   : depth + insn->stack_delta;
	}
	if (entry < 0) {
		const struct insn *stop = &f->insns[i < f->n ? i : f->n - 1];

		set_reason(plan, "nothing emulated before +%u %s%s", stop, NULL);
		entry = 0;
		*ret_depth0 = true;
		standard_entry_regs(req, plan);
	}
	return (size_t)entry;
}

static void set_entry(struct planner_plan *plan, const struct function *f, size_t i,
		      const struct planner_request *req)
{
	plan->entry_offset = req->offset + f->insns[i].rel;
	plan->entry_emulated = f->insns[i].emulated;
	memcpy(plan->entry_insn, f->insns[i].name, sizeof(plan->entry_insn));
}

/*
 * The first call of the function, if only the fall-through chain from its start reaches it
 * (through conditional branches, never a branch target): the registers there are exactly known.
 * Returns its index and where the arguments are held there, or -1.
 */
static long first_call(const struct function *f, const struct planner_request *req,
		       uint16_t holders[])
{
	arguments_at_entry(req, holders);
	for (size_t i = 0; i < f->n; i++) {
		const struct insn *insn = &f->insns[i];

		if (i > 0)
			for (size_t j = 0; j < f->n; j++)
				if ((f->insns[j].kind == INSN_JMP ||
				     f->insns[j].kind == INSN_JCC) &&
				    f->insns[j].target == insn->rel)
					return -1; /* another way in */
		if (insn->kind == INSN_CALL)
			return (long)i;
		if (insn->kind != INSN_PLAIN && insn->kind != INSN_JCC)
			return -1;
		follow_arguments(insn, req, holders);
	}
	return -1;
}

/* The internal function the function calls first, with the arguments passed through. */
static bool callee_exit(const struct planner_kernel *kernel, planner_read_fn read, void *ctx,
			const struct function *f, const struct planner_request *req,
			struct planner_plan *plan)
{
	uint16_t holders[PLANNER_MAX_ARGS];
	long last = first_call(f, req, holders);
	const struct insn *call;
	uint8_t first[16];
	long got;
	struct insn callee;

	if (last < 0)
		return false;
	call = &f->insns[last];
	if (call->target >= 0 && call->target < (int64_t)(req->size ? req->size : f->code_len))
		return false; /* inside the function itself */
	plan->callee_offset = req->offset + (uint64_t)call->target;
	for (size_t k = 0; k < req->n_args; k++)
		if (!(holders[k] & REG_BIT(arg_register(req, k))))
			return false; /* an argument is not passed through unchanged */
	got = read(ctx, plan->callee_offset, first, sizeof(first));
	if (got <= 0 ||
	    decode_insn(&f->decoder, kernel, CALLER_SAVED, first, (size_t)got, 0, &callee) < 0 ||
	    !callee.emulated)
		return false;
	/* the entry moves onto the call: the callee's arguments are in place there */
	set_entry(plan, f, (size_t)last, req);
	standard_entry_regs(req, plan);
	plan->exit = PLANNER_EXIT_CALLEE_URETPROBE;
	plan->exit_offset = plan->callee_offset;
	plan->exit_emulated = true;
	memcpy(plan->exit_insn, callee.name, sizeof(plan->exit_insn));
	return true;
}

int planner_plan(const struct planner_kernel *kernel, planner_read_fn read, void *ctx,
		 const struct planner_request *req, struct planner_plan *ret_plan)
{
	struct planner_plan plan = {};
	uint16_t holders[PLANNER_MAX_ARGS];
	struct function f = {};
	bool depth0 = false;
	size_t entry;
	long call;
	uint8_t *seen = NULL;
	long *stack = NULL;
	int r;

	if (req->n_args > PLANNER_MAX_ARGS)
		return -E2BIG;
	for (size_t k = 0; k < req->n_args; k++)
		if (req->args[k].index < 1 || req->args[k].index > PLANNER_MAX_ARGS)
			return -EINVAL;
	if (req->abi != PLANNER_ABI_SYSV && req->abi != PLANNER_ABI_GO)
		return -EINVAL;
	r = decode_function(kernel, read, ctx, req, &f);
	if (r < 0)
		return r;

	entry = plan_entry(&f, req, &plan, &depth0);
	set_entry(&plan, &f, entry, req);
	if (!req->needs_exit)
		goto done;

	/* Go: an exit on each return instruction, or none at all (see collect_returns) */
	if (req->abi == PLANNER_ABI_GO) {
		const struct insn *last = &f.insns[f.n - 1];

		if (!f.complete) {
			set_reason(&plan, "not fully decoded at +%u %s%s: returns unknown", last,
				   NULL);
			r = -ENOTSUP;
		} else if (!collect_returns(&f, &plan, req)) {
			set_reason(&plan, "no return at +%u %s%s", last, NULL);
			r = -ENOTSUP;
		}
		if (r < 0) {
			*ret_plan = plan;
			goto out;
		}
		plan.exit = PLANNER_EXIT_RETURNS;
		plan.exit_offset = plan.return_offsets[0];
		plan.exit_emulated = false; /* no kernel emulates ret: each is single-stepped */
		snprintf(plan.exit_insn, sizeof(plan.exit_insn), "ret");
		goto done;
	}
	seen = malloc(f.n);
	stack = malloc(f.n * 2 * sizeof(*stack));
	if (!seen || !stack) {
		r = -ENOMEM;
		goto out;
	}
	/* 1. an emulated instruction every return path passes, rax final from there on */
	for (size_t s = entry + 1; f.complete && plan.entry_emulated && s < f.n; s++) {
		if (!f.insns[s].emulated || f.insns[s].kind == INSN_CALL)
			continue;
		if (!walk_paths(&f, entry, (long)s, seen, stack) ||
		    !walk_paths(&f, s, -1, seen, stack))
			continue;
		plan.exit = PLANNER_EXIT_INSTRUCTION;
		plan.exit_offset = req->offset + f.insns[s].rel;
		plan.exit_emulated = true;
		memcpy(plan.exit_insn, f.insns[s].name, sizeof(plan.exit_insn));
		goto done;
	}
	/* 2. the stack is as at entry: a uretprobe on the entry site finds the return address */
	if (plan.entry_emulated && depth0) {
		plan.exit = PLANNER_EXIT_URETPROBE;
		plan.exit_offset = plan.entry_offset;
		plan.exit_emulated = true;
		memcpy(plan.exit_insn, plan.entry_insn, sizeof(plan.exit_insn));
		goto done;
	}
	/* 3. a uretprobe on the internal function, when its contract is ours */
	if (req->callee_contract && callee_exit(kernel, read, ctx, &f, req, &plan))
		goto done;
	/* 4. today's uretprobe; the entry joins it on the first instruction (one breakpoint) */
	if (!plan.reason[0])
		snprintf(plan.reason, sizeof(plan.reason), "%s",
			 !f.complete ? "not fully decoded: no exit proven"
				     : "no emulated site on every return path");
	plan.exit = PLANNER_EXIT_FIRST_URETPROBE;
	set_entry(&plan, &f, 0, req);
	standard_entry_regs(req, &plan);
	plan.exit_offset = req->offset;
	plan.exit_emulated = f.insns[0].emulated;
	memcpy(plan.exit_insn, f.insns[0].name, sizeof(plan.exit_insn));
done:
	if (!plan.callee_offset && (call = first_call(&f, req, holders)) >= 0)
		plan.callee_offset = req->offset + (uint64_t)f.insns[call].target;
	*ret_plan = plan;
	r = 0;
out:
	free(seen);
	free(stack);
	free(f.insns);
	return r;
}
