/* SPDX-License-Identifier: Apache-2.0 */
/* A program's log line, "program: message" on stderr: each program defines its log_msg once. */
#ifndef CT_LOG_H
#define CT_LOG_H

#include <stdarg.h>
#include <stdio.h>

#define CT_DEFINE_LOG_MSG(program)                                                                 \
	static void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));           \
	static void log_msg(const char *fmt, ...)                                                  \
	{                                                                                          \
		va_list ap;                                                                        \
                                                                                                   \
		fputs(program ": ", stderr);                                                       \
		va_start(ap, fmt);                                                                 \
		vfprintf(stderr, fmt, ap);                                                         \
		va_end(ap);                                                                        \
		fputc('\n', stderr);                                                               \
	}

#endif
