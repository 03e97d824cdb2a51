/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's --config file: a YAML mapping of option names (as on the command line,
 * without "--") to a scalar, or to a sequence of scalars for options given several times.
 * Parsed with libyaml's event API, which marks every scalar with its line and column, so the
 * options can be checked by the command line's own parser and its errors placed in the file.
 */
#ifndef CT_CONFIG_FILE_H
#define CT_CONFIG_FILE_H

#include <stddef.h>

#include <fcntl.h>

#define CONFIG_FILE_MAX_BYTES (1u << 20)
/* How the file is opened, at start-up and by the opener child on SIGHUP (its filter checks). */
#define CONFIG_FILE_FLAGS (O_RDONLY | O_CLOEXEC | O_NONBLOCK)

struct config_entry {
	char *name, *value;
	unsigned line, column; /* of the value, 1-based */
};

struct config_file {
	char *path;
	struct config_entry *entries; /* in file order; a sequence gives one entry per item */
	size_t n;
};

/*
 * Read and parse path. Returns 0, or -errno with a message naming the file, line and column
 * in error (an I/O error, a YAML syntax error, a value that is neither scalar nor sequence).
 */
int config_file_read(const char *path, struct config_file *ret, char *error, size_t error_len);
/* The same, from a descriptor of path (read and closed here; a negative one is its -errno). */
int config_file_read_fd(int fd, const char *path, struct config_file *ret, char *error,
			size_t error_len);

/* The file opened as config_file_read opens it: fd or -errno. */
int config_file_open(const char *path);

void config_file_free(struct config_file *f);

#endif
