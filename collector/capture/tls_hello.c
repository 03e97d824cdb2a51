/* SPDX-License-Identifier: Apache-2.0 */
#include "tls_hello.h"

#include <errno.h>
#include <string.h>

#define RECORD_HEADER	      5
#define CONTENT_HANDSHAKE     0x16
#define EXT_SERVER_NAME	      0
#define EXT_ALPN	      16
#define EXT_SUPPORTED_VERSION 43

/* A bounded reader: every read checks what is left; a failed read leaves it empty. */
struct cursor {
	const uint8_t *p;
	size_t n;
	bool short_read; /* a read ran past the end */
};

static bool take(struct cursor *c, size_t n, const uint8_t **ret)
{
	if (c->n < n) {
		c->short_read = true;
		c->n = 0;
		return false;
	}
	*ret = c->p;
	c->p += n;
	c->n -= n;
	return true;
}

static bool u8(struct cursor *c, uint32_t *ret)
{
	const uint8_t *p;

	if (!take(c, 1, &p))
		return false;
	*ret = p[0];
	return true;
}

static bool u16(struct cursor *c, uint32_t *ret)
{
	const uint8_t *p;

	if (!take(c, 2, &p))
		return false;
	*ret = (uint32_t)p[0] << 8 | p[1];
	return true;
}

/* A vector with a 1- or 2-byte length prefix, as a cursor of its own. */
static bool vector(struct cursor *c, size_t prefix, struct cursor *ret)
{
	uint32_t len;
	const uint8_t *p;

	if (!(prefix == 1 ? u8(c, &len) : u16(c, &len)) || !take(c, len, &p))
		return false;
	*ret = (struct cursor){p, len, false};
	return true;
}

int tls_hello_needed(const uint8_t *data, size_t len, size_t cap, size_t *ret_needed)
{
	size_t need;

	if (len >= 1 && data[0] != CONTENT_HANDSHAKE)
		return -EBADMSG;
	if (len < RECORD_HEADER) {
		*ret_needed = RECORD_HEADER;
		return 0;
	}
	need = RECORD_HEADER + ((size_t)data[3] << 8 | data[4]);
	*ret_needed = need < cap ? need : cap;
	return 0;
}

/* GREASE values (RFC 8701) are 0x?a?a with equal bytes: offered to keep peers honest, skipped. */
static bool is_grease(uint32_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static void parse_server_name(struct cursor ext, struct tls_hello *h)
{
	struct cursor list, name;
	uint32_t type;

	if (!vector(&ext, 2, &list))
		return;
	while (list.n && u8(&list, &type) && vector(&list, 2, &name)) {
		if (type != 0) /* host_name */
			continue;
		size_t n =
		    name.n < sizeof(h->server_name) - 1 ? name.n : sizeof(h->server_name) - 1;

		/* a host name is ASCII; anything else would corrupt text output */
		for (size_t i = 0; i < n; i++)
			h->server_name[i] =
			    name.p[i] > 0x20 && name.p[i] < 0x7f ? (char)name.p[i] : '?';
		h->server_name[n] = '\0';
		return;
	}
}

static void parse_alpn(struct cursor ext, struct tls_hello *h)
{
	struct cursor list, name;

	if (!vector(&ext, 2, &list))
		return;
	while (list.n && h->n_alpn < TLS_HELLO_MAX_ALPN && vector(&list, 1, &name)) {
		char *out = h->alpn[h->n_alpn++];
		size_t n = name.n < TLS_HELLO_ALPN_LEN ? name.n : TLS_HELLO_ALPN_LEN;

		for (size_t i = 0; i < n; i++)
			out[i] = name.p[i] >= 0x20 && name.p[i] < 0x7f ? (char)name.p[i] : '?';
		out[n] = '\0';
	}
}

static void parse_versions(struct cursor ext, struct tls_hello *h)
{
	struct cursor list;
	uint32_t v;

	if (h->type == TLS_SERVER_HELLO) {
		if (u16(&ext, &v)) {
			h->versions[0] = (uint16_t)v;
			h->n_versions = 1;
		}
		return;
	}
	if (!vector(&ext, 1, &list))
		return;
	h->n_versions = 0;
	while (list.n >= 2 && h->n_versions < TLS_HELLO_MAX_VERSIONS && u16(&list, &v))
		if (!is_grease(v))
			h->versions[h->n_versions++] = (uint16_t)v;
}

static void parse_extensions(struct cursor *c, struct tls_hello *h)
{
	uint32_t len, type;
	struct cursor all, ext;
	const uint8_t *p;

	if (!u16(c, &len))
		return;
	/* a capped capture holds the start of the list only */
	all = (struct cursor){c->p, len < c->n ? len : c->n, false};
	if (len > c->n)
		c->short_read = true;
	take(c, all.n, &p);
	while (all.n >= 4 && u16(&all, &type)) {
		if (!vector(&all, 2, &ext)) {
			c->short_read = true;
			break;
		}
		if (type == EXT_SERVER_NAME && h->type == TLS_CLIENT_HELLO)
			parse_server_name(ext, h);
		else if (type == EXT_ALPN)
			parse_alpn(ext, h);
		else if (type == EXT_SUPPORTED_VERSION)
			parse_versions(ext, h);
	}
	if (all.n)
		c->short_read = true;
}

int tls_hello_parse(const uint8_t *data, size_t len, struct tls_hello *ret)
{
	struct cursor rec = {data, len, false}, body, skip;
	const uint8_t *p;
	uint32_t type, version, record_len, msg_len_hi, msg_len_lo, cipher;
	struct tls_hello h;
	size_t msg_len;

	memset(&h, 0, sizeof(h));
	if (!u8(&rec, &type) || type != CONTENT_HANDSHAKE || !u16(&rec, &version) ||
	    (version >> 8) != 3 || !u16(&rec, &record_len))
		return -EBADMSG;
	h.truncated = record_len > rec.n;
	body = (struct cursor){rec.p, record_len < rec.n ? record_len : rec.n, false};
	if (!u8(&body, &type) || !u8(&body, &msg_len_hi) || !u16(&body, &msg_len_lo))
		return -EBADMSG;
	if (type != TLS_CLIENT_HELLO && type != TLS_SERVER_HELLO)
		return -ENOMSG;
	h.type = (uint8_t)type;
	msg_len = (size_t)msg_len_hi << 16 | msg_len_lo;
	if (msg_len > body.n) /* fragmented over records, or cut by the capture */
		h.truncated = true;
	else
		body.n = msg_len;
	if (!u16(&body, &version) || !take(&body, 32, &p) || !vector(&body, 1, &skip))
		return -EBADMSG;
	h.legacy_version = (uint16_t)version;
	h.versions[0] = (uint16_t)version;
	h.n_versions = 1;
	if (h.type == TLS_CLIENT_HELLO) {
		if (!vector(&body, 2, &skip) || !vector(&body, 1, &skip))
			return h.truncated ? (*ret = h, 0) : -EBADMSG;
	} else {
		if (!u16(&body, &cipher) || !u8(&body, &type))
			return h.truncated ? (*ret = h, 0) : -EBADMSG;
		h.cipher_suite = (uint16_t)cipher;
	}
	if (body.n) /* extensions are optional before TLS 1.3 */
		parse_extensions(&body, &h);
	if (body.short_read && !h.truncated)
		return -EBADMSG;
	*ret = h;
	return 0;
}

const char *tls_version_name(uint16_t version)
{
	switch (version) {
	case 0x0304:
		return "TLSv1.3";
	case 0x0303:
		return "TLSv1.2";
	case 0x0302:
		return "TLSv1.1";
	case 0x0301:
		return "TLSv1.0";
	case 0x0300:
		return "SSLv3";
	default:
		return NULL;
	}
}
