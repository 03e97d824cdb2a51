/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_ELF_SYMBOLS_H
#define CT_ELF_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

/* A function symbol as uprobes take it: a file offset, and the symbol's size in bytes. */
struct elf_function {
	uint64_t offset; /* 0 when not found */
	uint64_t size;
};

/* File ranges of the executable PT_LOAD segments: [offset, offset + size). */
struct elf_exec_range {
	uint64_t offset;
	uint64_t size;
};

#define ELF_MAX_EXEC_RANGES 4

struct Elf;

/*
 * uprobes take an offset into the file; symbols hold virtual addresses: the file offset of an
 * address in an executable PT_LOAD segment, or -ENOENT (-ENOEXEC: no program headers).
 */
int elf_code_offset(struct Elf *elf, uint64_t vaddr, uint64_t *ret_offset);

/*
 * Resolve function symbols of an ELF file (fd not consumed) to file offsets and sizes.
 * ret_functions[i] is set for every name found; versioned names (SSL_write@@OPENSSL_3.0.0)
 * match their base name; names no symbol table holds are looked up in Go's .gopclntab. ret_ranges
 * (may be NULL) receives the executable segments, their count in *ret_n_ranges. Returns the number
 * of names found, or -errno (-ENOEXEC: not ELF, -EBADMSG: a malformed .gopclntab).
 */
int elf_resolve_functions_fd(int fd, const char *const *names, size_t n_names,
			     struct elf_function *ret_functions, struct elf_exec_range *ret_ranges,
			     size_t *ret_n_ranges);

#endif
