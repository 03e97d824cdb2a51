/* SPDX-License-Identifier: Apache-2.0 */
#include "capture_rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ct_macro.h"

static const char *const level_names[] = {"none", "summary", "headers", "full"};

int capture_level_parse(const char *text, enum capture_level *ret)
{
	for (size_t i = 0; i < CT_ARRAY_SIZE(level_names); i++)
		if (!strcmp(text, level_names[i])) {
			*ret = (enum capture_level)i;
			return 0;
		}
	return -EINVAL;
}

const char *capture_level_name(enum capture_level level)
{
	return (size_t)level < CT_ARRAY_SIZE(level_names) ? level_names[level] : "?";
}

/* value into dst (size bytes), refusing what does not fit */
static int set_text(char *dst, size_t size, const char *value, size_t len)
{
	if (!len || len >= size)
		return -EINVAL;
	memcpy(dst, value, len);
	dst[len] = '\0';
	return 0;
}

static int parse_status(struct capture_rule *rule, const char *v, size_t len)
{
	char *end;
	long n;

	if (len == 3 && v[0] >= '1' && v[0] <= '5' && (v[1] | 0x20) == 'x' &&
	    (v[2] | 0x20) == 'x') {
		rule->status_class = v[0] - '0';
		return 0;
	}
	n = strtol(v, &end, 10);
	if (end != v + len || n < 100 || n > 599)
		return -EINVAL;
	rule->status = (int)n;
	return 0;
}

static int parse_condition(struct capture_rule *rule, const char *word, size_t len,
			   const char **ret_why)
{
	static const struct {
		const char *key;
		size_t offset, size;
	} texts[] = {
#define TEXT(name)                                                                                 \
	{#name, offsetof(struct capture_rule, name), sizeof(((struct capture_rule *)0)->name)}
	    TEXT(comm), TEXT(exe), TEXT(container), TEXT(authority), TEXT(path),
#undef TEXT
	};
	const char *eq = memchr(word, '=', len);
	size_t key_len = eq ? (size_t)(eq - word) : 0;

	if (!eq) {
		*ret_why = "a condition is KEY=VALUE";
		return -EINVAL;
	}
	if (key_len == 6 && !strncmp(word, "status", 6)) {
		if (parse_status(rule, eq + 1, len - key_len - 1) < 0) {
			*ret_why = "status is a code (100 to 599) or a class (1xx to 5xx)";
			return -EINVAL;
		}
		return 0;
	}
	for (size_t i = 0; i < CT_ARRAY_SIZE(texts); i++)
		if (strlen(texts[i].key) == key_len && !strncmp(word, texts[i].key, key_len)) {
			if (set_text((char *)rule + texts[i].offset, texts[i].size, eq + 1,
				     len - key_len - 1) < 0) {
				*ret_why = "a value is empty or too long";
				return -EINVAL;
			}
			return 0;
		}
	*ret_why = "keys are comm, exe, container, authority, path and status";
	return -EINVAL;
}

int capture_rules_add(struct capture_rules *r, const char *text, const char **ret_why)
{
	struct capture_rule rule = {0};
	const char *p = text;
	bool have_level = false;

	*ret_why = NULL;
	if (r->n == CAPTURE_RULES_MAX) {
		*ret_why = "too many rules";
		return -E2BIG;
	}
	while (*p) {
		size_t len;

		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (!len)
			break;
		if (!have_level) {
			char level[16];

			if (set_text(level, sizeof(level), p, len) < 0 ||
			    capture_level_parse(level, &rule.level) < 0) {
				*ret_why =
				    "a rule starts with its level: none, summary, headers or full";
				return -EINVAL;
			}
			have_level = true;
		} else if (parse_condition(&rule, p, len, ret_why) < 0) {
			return -EINVAL;
		}
		p += len;
	}
	if (!have_level) {
		*ret_why = "a rule starts with its level: none, summary, headers or full";
		return -EINVAL;
	}
	r->rules[r->n++] = rule;
	return 0;
}

static bool matches(const struct capture_rule *rule, const struct capture_subject *s)
{
	const char *path = s->path ? s->path : "";

	if (rule->comm[0] && (!s->comm || strcmp(rule->comm, s->comm)))
		return false;
	if (rule->exe[0] && (!s->exe || strcmp(rule->exe, s->exe)))
		return false;
	if (rule->container[0] &&
	    (!s->container || strncmp(s->container, rule->container, strlen(rule->container))))
		return false;
	if (rule->authority[0] && (!s->authority || strcasecmp(rule->authority, s->authority)))
		return false;
	if (rule->path[0] && strncmp(path, rule->path, strlen(rule->path)))
		return false;
	if (rule->status_class && s->status / 100 != rule->status_class)
		return false;
	if (rule->status && s->status != rule->status)
		return false;
	return true;
}

enum capture_level capture_level_of(const struct capture_rules *r, const struct capture_subject *s)
{
	for (size_t i = 0; i < r->n; i++)
		if (matches(&r->rules[i], s))
			return r->rules[i].level;
	return r->default_level;
}

enum capture_level capture_rules_max(const struct capture_rules *r)
{
	enum capture_level max = r->default_level;

	for (size_t i = 0; i < r->n; i++)
		if (r->rules[i].level > max)
			max = r->rules[i].level;
	return max;
}
