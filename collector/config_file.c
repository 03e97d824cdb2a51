// SPDX-License-Identifier: Apache-2.0
#include "config_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* Read a regular file of at most CONFIG_FILE_MAX_BYTES whole (a ConfigMap's is a symlink). */
int config_file_open(const char *path)
{
	int fd = open(path, CONFIG_FILE_FLAGS);

	return fd < 0 ? -errno : fd;
}

/* The whole of the file open at fd (closed here). */
static int read_whole(int fd, char **ret, size_t *ret_len)
{
	struct stat st;
	size_t len = 0;
	char *buf;
	ssize_t n;
	int r;

	if (fd < 0)
		return -errno;
	r = fstat(fd, &st) < 0			 ? -errno
	    : !S_ISREG(st.st_mode)		 ? -EINVAL
	    : st.st_size > CONFIG_FILE_MAX_BYTES ? -EFBIG
						 : 0;
	if (r < 0) {
		close(fd);
		return r;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len < (size_t)st.st_size && (n = read(fd, buf + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

static void say(char *error, size_t len, const char *path, const yaml_mark_t *mark, const char *fmt,
		...) __attribute__((format(printf, 5, 6)));
static void say(char *error, size_t len, const char *path, const yaml_mark_t *mark, const char *fmt,
		...)
{
	va_list ap;
	int n = snprintf(error, len, "%s:%zu:%zu: ", path, mark->line + 1, mark->column + 1);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < len)
		vsnprintf(error + n, len - (size_t)n, fmt, ap);
	va_end(ap);
}

static int add_entry(struct config_file *f, const char *name, const yaml_event_t *value)
{
	struct config_entry *e = realloc(f->entries, (f->n + 1) * sizeof(*e));

	if (!e)
		return -ENOMEM;
	f->entries = e;
	e = &f->entries[f->n];
	e->name = strdup(name);
	e->value = strdup((const char *)value->data.scalar.value);
	e->line = (unsigned)value->start_mark.line + 1;
	e->column = (unsigned)value->start_mark.column + 1;
	if (!e->name || !e->value) {
		free(e->name);
		free(e->value);
		return -ENOMEM;
	}
	f->n++;
	return 0;
}

/* The events after STREAM_START: one document holding one mapping of name: scalar|[scalars]. */
static int parse(yaml_parser_t *p, struct config_file *f, char *error, size_t error_len)
{
	enum { TOP, MAPPING, SEQUENCE, DONE } where = TOP;
	char *name = NULL;
	int r = 0;

	for (;;) {
		yaml_event_t ev;

		if (!yaml_parser_parse(p, &ev)) {
			say(error, error_len, f->path, &p->problem_mark, "%s%s%s",
			    p->problem ? p->problem : "not YAML", p->context ? " " : "",
			    p->context ? p->context : "");
			r = -EINVAL;
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (where == DONE) {
				say(error, error_len, f->path, &ev.start_mark, "one document only");
				r = -EINVAL;
			}
			break;
		case YAML_DOCUMENT_END_EVENT:
			where = DONE;
			break;
		case YAML_MAPPING_START_EVENT:
			if (where != TOP || name) {
				say(error, error_len, f->path, &ev.start_mark,
				    "%s%s%s takes a value or a list of values, not a mapping",
				    name ? "'" : "", name ? name : "an option", name ? "'" : "");
				r = -EINVAL;
			}
			where = MAPPING;
			break;
		case YAML_MAPPING_END_EVENT:
			where = DONE;
			break;
		case YAML_SEQUENCE_START_EVENT:
			if (where != MAPPING || !name) {
				say(error, error_len, f->path, &ev.start_mark,
				    where == TOP ? "the file is a mapping of option names to values"
						 : "a list inside a list");
				r = -EINVAL;
			}
			where = SEQUENCE;
			break;
		case YAML_SEQUENCE_END_EVENT:
			free(name);
			name = NULL;
			where = MAPPING;
			break;
		case YAML_SCALAR_EVENT:
			if (where == TOP) {
				say(error, error_len, f->path, &ev.start_mark,
				    "the file is a mapping of option names to values");
				r = -EINVAL;
			} else if (where == MAPPING && !name) {
				name = strdup((const char *)ev.data.scalar.value);
				if (!name)
					r = -ENOMEM;
			} else {
				r = add_entry(f, name, &ev);
				if (where == MAPPING) {
					free(name);
					name = NULL;
				}
			}
			break;
		case YAML_ALIAS_EVENT:
			say(error, error_len, f->path, &ev.start_mark, "aliases are not supported");
			r = -EINVAL;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (r < 0)
			break;
	}
	free(name);
	return r;
}

int config_file_read(const char *path, struct config_file *ret, char *error, size_t error_len)
{
	return config_file_read_fd(config_file_open(path), path, ret, error, error_len);
}

int config_file_read_fd(int fd, const char *path, struct config_file *ret, char *error,
			size_t error_len)
{
	yaml_parser_t parser;
	char *text = NULL;
	size_t len = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = fd < 0 ? fd : read_whole(fd, &text, &len)) < 0) {
		snprintf(error, error_len, "%s: %s", path,
			 r == -EINVAL  ? "not a regular file"
			 : r == -EFBIG ? "larger than 1 MiB"
				       : strerror(-r));
		return r;
	}
	ret->path = strdup(path);
	if (!ret->path || !yaml_parser_initialize(&parser)) {
		free(text);
		config_file_free(ret);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	r = parse(&parser, ret, error, error_len);
	yaml_parser_delete(&parser);
	free(text);
	if (r < 0)
		config_file_free(ret);
	return r;
}

void config_file_free(struct config_file *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->entries[i].name);
		free(f->entries[i].value);
	}
	free(f->entries);
	free(f->path);
	memset(f, 0, sizeof(*f));
}
