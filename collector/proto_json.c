/* SPDX-License-Identifier: Apache-2.0 */
#include "proto_json.h"

#include <ctype.h>
#include <inttypes.h>
#include <string.h>

void proto_json_base64(struct ct_buf *out, const uint8_t *d, size_t len)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char quad[4];

	ct_buf_putc(out, '"');
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)d[i + 1] << 8;
		if (i + 2 < len)
			v |= d[i + 2];
		quad[0] = alphabet[(v >> 18) & 63];
		quad[1] = alphabet[(v >> 12) & 63];
		quad[2] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		quad[3] = i + 2 < len ? alphabet[v & 63] : '=';
		ct_buf_put(out, quad, 4);
	}
	ct_buf_putc(out, '"');
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

void proto_json_string(struct ct_buf *out, const uint8_t *s, size_t len)
{
	ct_buf_putc(out, '"');
	for (size_t i = 0; i < len;) {
		uint8_t c = s[i];
		size_t n;

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

static void write_name(struct ct_buf *out, const char *name)
{
	bool upper = false;

	ct_buf_putc(out, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '_') {
			upper = true;
			continue;
		}
		ct_buf_putc(out, upper ? (char)toupper((unsigned char)*p) : *p);
		upper = false;
	}
	ct_buf_puts(out, "\":");
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
	default: {
		static const uint8_t zero[8];
		return memcmp(p, zero, element_size(f->type)) == 0;
	}
	}
}

static void write_value(struct ct_buf *out, const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		ct_buf_printf(out, "%" PRId32, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		ct_buf_printf(out, "%" PRIu32, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		ct_buf_printf(out, "\"%" PRId64 "\"", *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		ct_buf_printf(out, "\"%" PRIu64 "\"", *(const uint64_t *)p);
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
		if (v)
			ct_buf_printf(out, "\"%s\"", v->name);
		else
			ct_buf_printf(out, "%d", *(const int *)p);
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
			write_name(out, f->name);
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
		write_name(out, f->name);
		write_value(out, f, p);
	}
	ct_buf_putc(out, '}');
}
