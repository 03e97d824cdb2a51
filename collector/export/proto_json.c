/* SPDX-License-Identifier: Apache-2.0 */
#include "proto_json.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "id_table.h"
#include "text_scan.h"

/* Two base64 characters for every 12-bit value: one lookup per 12 bits, not per 6. */
static uint16_t base64_pairs[4096];

static void base64_init(void)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (unsigned v = 0; v < 4096; v++) {
		char pair[2] = {alphabet[v >> 6], alphabet[v & 63]};

		memcpy(&base64_pairs[v], pair, 2);
	}
}

void proto_json_base64(struct ct_buf *out, const uint8_t *d, size_t len)
{
	size_t full = len / 3 * 3, i;
	uint8_t *o;

	if (!base64_pairs[0])
		base64_init();
	/* bodies are most of the output: encode straight into the buffer, room made once */
	o = ct_buf_extend(out, 2 + (len + 2) / 3 * 4);
	if (!o)
		return;
	*o++ = '"';
	/* six bytes per step from one 64-bit load: 24 bits twice */
	for (i = 0; i + 8 <= len && i + 6 <= full; i += 6) {
		uint64_t w;

		memcpy(&w, d + i, 8);
		w = __builtin_bswap64(w);
		memcpy(o, &base64_pairs[w >> 52], 2);
		memcpy(o + 2, &base64_pairs[(w >> 40) & 4095], 2);
		memcpy(o + 4, &base64_pairs[(w >> 28) & 4095], 2);
		memcpy(o + 6, &base64_pairs[(w >> 16) & 4095], 2);
		o += 8;
	}
	for (; i < full; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];

		memcpy(o, &base64_pairs[v >> 12], 2);
		memcpy(o + 2, &base64_pairs[v & 4095], 2);
		o += 4;
	}
	if (i < len) {
		uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < len ? (uint32_t)d[i + 1] << 8 : 0);

		memcpy(o, &base64_pairs[v >> 12], 2);
		memcpy(o + 2, &base64_pairs[v & 4095], 2);
		o[3] = '=';
		if (i + 1 >= len)
			o[2] = '=';
		o += 4;
	}
	*o = '"';
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, surrogates, > U+10FFFF). */
static size_t utf8_sequence(const uint8_t *s, size_t len)
{
	uint8_t c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

bool proto_json_is_text(const uint8_t *s, size_t len, bool multiline)
{
	for (size_t i = 0; i < len;) {
		size_t n = text_printable_prefix(s + i, len - i, false);

		if (n) {
			i += n;
			continue;
		}
		if (s[i] == '\t' || (multiline && (s[i] == '\n' || s[i] == '\r'))) {
			i++;
			continue;
		}
		if (s[i] < 0x80 || !(n = utf8_sequence(s + i, len - i)))
			return false; /* a control character, DEL, or not UTF-8 */
		i += n;
	}
	return true;
}

void proto_json_string(struct ct_buf *out, const uint8_t *s, size_t len)
{
	ct_buf_putc(out, '"');
	for (size_t i = 0; i < len;) {
		uint8_t c = s[i];
		size_t n, run;

		/* printable ASCII needs no escape: copy the whole run at once */
		run = i + text_printable_prefix(s + i, len - i, true);
		if (run > i) {
			ct_buf_put(out, s + i, run - i);
			i = run;
			continue;
		}
		switch (c) {
		case '"':
			ct_buf_puts(out, "\\\"");
			i++;
			continue;
		case '\\':
			ct_buf_puts(out, "\\\\");
			i++;
			continue;
		case '\n':
			ct_buf_puts(out, "\\n");
			i++;
			continue;
		case '\r':
			ct_buf_puts(out, "\\r");
			i++;
			continue;
		case '\t':
			ct_buf_puts(out, "\\t");
			i++;
			continue;
		default:
			break;
		}
		if (c < 0x20 || c == 0x7f) {
			ct_buf_printf(out, "\\u%04x", c);
			i++;
			continue;
		}
		n = utf8_sequence(s + i, len - i);
		if (n == 0) {
			ct_buf_puts(out, "\\ufffd");
			i++;
			continue;
		}
		ct_buf_put(out, s + i, n);
		i += n;
	}
	ct_buf_putc(out, '"');
}

/*
 * The "lowerCamelName": of every field of a message, made once per message descriptor and kept
 * for the process (in the one id_table, keyed by the descriptor's address).
 */
struct json_names {
	struct id_node node;
	unsigned n;
	struct {
		uint8_t len;
		char text[63];
	} field[];
};

static struct id_table json_names;

static const struct json_names *names_of(const ProtobufCMessageDescriptor *d)
{
	struct id_node *found =
	    json_names.buckets ? id_table_find(&json_names, (uintptr_t)d) : NULL;
	struct json_names *names;

	if (found)
		return id_entry(found, struct json_names, node);
	if (!json_names.buckets && id_table_init(&json_names, 1024) < 0)
		return NULL;
	names = malloc(sizeof(*names) + d->n_fields * sizeof(names->field[0]));
	if (!names)
		return NULL;
	names->node.key = (uintptr_t)d;
	names->n = d->n_fields;
	for (unsigned i = 0; i < d->n_fields; i++) {
		char *json = names->field[i].text;
		size_t n = 0;
		bool upper = false;

		json[n++] = '"';
		for (const char *p = d->fields[i].name; *p && n < sizeof(names->field[i].text) - 2;
		     p++) {
			if (*p == '_') {
				upper = true;
				continue;
			}
			json[n++] = upper && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
			upper = false;
		}
		json[n++] = '"';
		json[n++] = ':';
		names->field[i].len = (uint8_t)n;
	}
	id_table_insert(&json_names, &names->node);
	return names;
}

static void write_name(struct ct_buf *out, const struct json_names *names, unsigned i)
{
	if (names)
		ct_buf_put(out, names->field[i].text, names->field[i].len);
	else
		ct_buf_puts(out, "\"?\":"); /* out of memory: still valid JSON */
}

static size_t element_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	}
	return 0;
}

static bool is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)p;
		return !s || !*s;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return !*(const void *const *)p;
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_BOOL:
		return !*(const protobuf_c_boolean *)p;
	default:
		/* numbers and enums: zero bits are the default (0, 0.0 and enum value 0) */
		if (element_size(f->type) == 8) {
			uint64_t v;

			memcpy(&v, p, 8);
			return v == 0;
		} else {
			uint32_t v;

			memcpy(&v, p, 4);
			return v == 0;
		}
	}
}

static void write_value(struct ct_buf *out, const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		ct_buf_put_i64(out, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		ct_buf_put_u64(out, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		ct_buf_putc(out, '"');
		ct_buf_put_i64(out, *(const int64_t *)p);
		ct_buf_putc(out, '"');
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		ct_buf_putc(out, '"');
		ct_buf_put_u64(out, *(const uint64_t *)p);
		ct_buf_putc(out, '"');
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		ct_buf_printf(out, "%.9g", (double)*(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		ct_buf_printf(out, "%.17g", *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		ct_buf_puts(out, *(const protobuf_c_boolean *)p ? "true" : "false");
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *v =
		    protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);
		if (v) {
			ct_buf_putc(out, '"');
			ct_buf_puts(out, v->name);
			ct_buf_putc(out, '"');
		} else {
			ct_buf_put_i64(out, *(const int *)p);
		}
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)p;
		proto_json_string(out, (const uint8_t *)(s ? s : ""), s ? strlen(s) : 0);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		proto_json_base64(out, b->data, b->len);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		proto_json_write(out, *(const ProtobufCMessage *const *)p);
		break;
	}
}

void proto_json_write(struct ct_buf *out, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const uint8_t *base = (const uint8_t *)m;
	const struct json_names *names = names_of(d);
	bool first = true;

	ct_buf_putc(out, '{');
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *p = base + f->offset;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			const uint8_t *items = *(const uint8_t *const *)p;

			if (!n)
				continue;
			if (!first)
				ct_buf_putc(out, ',');
			first = false;
			write_name(out, names, i);
			ct_buf_putc(out, '[');
			for (size_t j = 0; j < n; j++) {
				if (j)
					ct_buf_putc(out, ',');
				write_value(out, f, items + j * element_size(f->type));
			}
			ct_buf_putc(out, ']');
			continue;
		}
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
				continue;
		} else if (is_default(f, p)) {
			continue;
		}
		if (!first)
			ct_buf_putc(out, ',');
		first = false;
		write_name(out, names, i);
		write_value(out, f, p);
	}
	ct_buf_putc(out, '}');
}
