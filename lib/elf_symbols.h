/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_ELF_SYMBOLS_H
#define CT_ELF_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Resolve function symbols of an ELF file to the file offsets uprobes take. ret_offsets[i] is
 * set for every name found (0 when missing); versioned names (SSL_write@@OPENSSL_3.0.0) match
 * their base name. Returns the number of names found, or -errno (-ENOEXEC: not an ELF file).
 */
int elf_resolve_functions(const char *path, const char *const *names, size_t n_names,
			  uint64_t *ret_offsets);

/* Same, on an already open file descriptor (not consumed). */
int elf_resolve_functions_fd(int fd, const char *const *names, size_t n_names,
			     uint64_t *ret_offsets);

#endif
