/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What Go executables say about themselves: the toolchain version (.go.buildinfo) and where
 * each function is (.gopclntab, Go's own symbol table, which `-ldflags=-s -w` does not strip).
 * Read from the file, bounded, nothing trusted: a hostile file gets -EBADMSG.
 */
#ifndef CT_GO_BINARY_H
#define CT_GO_BINARY_H

#include <stddef.h>
#include <stdint.h>

#include "elf_symbols.h"

struct go_version {
	char text[32];	/* "go1.19.8", as the build info has it */
	unsigned minor; /* 19 for go1.19.8 */
};

/* The Go version of an ELF file: -ENOENT when it is not a Go binary, -EBADMSG when its build
 * info cannot be read, -ENOEXEC when not ELF. fd is not consumed. */
int go_version_fd(int fd, struct go_version *ret_version);

/*
 * Resolve the names functions[] still lacks (offset 0) through .gopclntab: Go 1.16 to 1.2x
 * layouts (magic 0xfffffffa, 0xfffffff0, 0xfffffff1). Sizes run to the next function's entry.
 * Returns the number of names it resolved (0 without a table), or -EBADMSG.
 */
int go_pclntab_resolve(struct Elf *elf, const char *const *names, size_t n_names,
		       struct elf_function *functions);

#endif
