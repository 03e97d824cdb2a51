/* SPDX-License-Identifier: Apache-2.0 */
#include "http1_parser.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text_scan.h"

#define MAX_CHUNK_LINE 1024

static const char *const request_methods[] = {"GET ",	"HEAD ",    "POST ",	"PUT ",	 "DELETE ",
					      "PATCH ", "OPTIONS ", "CONNECT ", "TRACE "};

/* RFC 9110 token characters, by table: every byte of every header name and method is one. */
static const bool tchars[256] = {
    ['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true, ['!'] = true,  ['#'] = true,
    ['$'] = true,	  ['%'] = true,		['&'] = true,	      ['\''] = true, ['*'] = true,
    ['+'] = true,	  ['-'] = true,		['.'] = true,	      ['^'] = true,  ['_'] = true,
    ['`'] = true,	  ['|'] = true,		['~'] = true,
};

static bool is_tchar(uint8_t c)
{
	return tchars[c];
}

/* A field value: visible ASCII, space, HTAB and obs-text (0x80-0xff); no other control. */
static bool field_value_valid(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		i += text_printable_prefix(s + i, len - i, false);
		if (i < len && s[i] != '\t' && s[i] < 0x80)
			return false; /* 0x00-0x1f but HTAB, or DEL */
	}
	return true;
}

int http1_parser_init(struct http1_parser *p, bool requests, const struct http1_limits *limits,
		      const struct http1_callbacks *cb, void *userdata)
{
	memset(p, 0, sizeof(*p));
	p->requests = requests;
	p->limits = (struct http1_limits){
	    .max_head = 64 * 1024, .max_start_line = 8 * 1024, .max_headers = HTTP1_MAX_HEADERS};
	if (limits) {
		if (limits->max_head)
			p->limits.max_head = limits->max_head;
		if (limits->max_start_line)
			p->limits.max_start_line = limits->max_start_line;
		if (limits->max_headers && limits->max_headers < HTTP1_MAX_HEADERS)
			p->limits.max_headers = limits->max_headers;
	}
	p->cb = *cb;
	p->userdata = userdata;
	p->state = HTTP1_S_HEAD;
	return 0;
}

void http1_parser_free(struct http1_parser *p)
{
	ct_buf_free(&p->buf);
}

static int buf_append(struct http1_parser *p, const uint8_t *data, size_t len)
{
	uint8_t *to = ct_buf_extend(&p->buf, len);

	if (!to)
		return -ENOMEM;
	memcpy(to, data, len);
	return 0;
}

/*
 * Buffer bytes of a head or trailer section, at most max_head + 3 in all: enough to see a
 * terminator that begins right at the limit. ret_n: how many bytes were taken.
 */
static int buf_append_section(struct http1_parser *p, const uint8_t *data, size_t len,
			      size_t *ret_n)
{
	size_t n = len;

	if (p->buf.len + n > p->limits.max_head + 3)
		n = p->limits.max_head + 3 - p->buf.len;
	*ret_n = n;
	return buf_append(p, data, n);
}

/* at_line_start: the bytes consumed so far end with a line end (a message may start next). */
static void fail_at(struct http1_parser *p, const char *reason, bool at_line_start)
{
	p->state = HTTP1_S_SEEK;
	p->in_message = false;
	p->buf.len = 0;
	p->seek_len = 0;
	p->skipped = 0;
	p->at_line_start = at_line_start;
	if (reason && p->cb.error)
		p->cb.error(p->userdata, reason);
}

static void fail(struct http1_parser *p, const char *reason)
{
	fail_at(p, reason, false);
}

static void end_message(struct http1_parser *p, const struct http1_header *trailers, size_t n)
{
	p->in_message = false;
	p->state = HTTP1_S_HEAD;
	p->buf.len = 0;
	if (p->cb.end)
		p->cb.end(p->userdata, trailers, n);
}

/* Index just past the empty line ending a header section in b[from..len), or 0. */
static size_t find_section_end(const uint8_t *b, size_t from, size_t len)
{
	for (size_t i = from; i < len; i++) {
		const uint8_t *nl = memchr(b + i, '\n', len - i); /* vectorised by libc */

		if (!nl)
			return 0;
		i = (size_t)(nl - b);
		if (i + 1 < len && b[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && b[i + 1] == '\r' && b[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* One line [*pos, end) without its line ending; *pos moves past it. */
static bool next_line(const uint8_t *b, size_t end, size_t *pos, size_t *ret_start, size_t *ret_len)
{
	size_t s = *pos, e;
	const uint8_t *nl = s < end ? memchr(b + s, '\n', end - s) : NULL;

	if (!nl)
		return false;
	e = (size_t)(nl - b);
	*ret_start = s;
	*ret_len = (e > s && b[e - 1] == '\r') ? e - 1 - s : e - s;
	*pos = e + 1;
	return true;
}

/* Header lines until the empty line. Returns NULL or the reason it is malformed. */
static const char *parse_fields(const uint8_t *b, size_t pos, size_t end, struct http1_header *out,
				size_t max, size_t *ret_n)
{
	size_t n = 0, s, len;

	while (next_line(b, end, &pos, &s, &len) && len > 0) {
		const uint8_t *line = b + s;
		size_t name_len = 0, v, ve;

		if (line[0] == ' ' || line[0] == '\t')
			return "malformed: obsolete line folding";
		while (name_len < len && is_tchar(line[name_len]))
			name_len++;
		if (name_len == 0 || name_len == len || line[name_len] != ':')
			return "malformed: invalid header name";
		v = name_len + 1;
		while (v < len && (line[v] == ' ' || line[v] == '\t'))
			v++;
		ve = len;
		while (ve > v && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
			ve--;
		if (!field_value_valid(line + v, ve - v))
			return "malformed: control character in header value";
		if (n == max)
			return "malformed: too many headers";
		out[n++] = (struct http1_header){.name = (const char *)line,
						 .name_len = name_len,
						 .value = (const char *)line + v,
						 .value_len = ve - v};
	}
	*ret_n = n;
	return NULL;
}

static bool name_is(const struct http1_header *h, const char *name)
{
	return h->name_len == strlen(name) && strncasecmp(h->name, name, h->name_len) == 0;
}

/* Content-Length and Transfer-Encoding of a head. NULL or the reason it is malformed. */
static const char *parse_framing(struct http1_head *h)
{
	h->content_length = -1;
	h->chunked = false;
	for (size_t i = 0; i < h->n_headers; i++) {
		const struct http1_header *f = &h->headers[i];

		if (name_is(f, "content-length")) {
			int64_t v = 0;

			if (f->value_len == 0 || f->value_len > 18)
				return "malformed: invalid content-length";
			for (size_t k = 0; k < f->value_len; k++) {
				if (f->value[k] < '0' || f->value[k] > '9')
					return "malformed: invalid content-length";
				v = v * 10 + (f->value[k] - '0');
			}
			if (h->content_length >= 0 && h->content_length != v)
				return "malformed: conflicting content-length";
			h->content_length = v;
		} else if (name_is(f, "transfer-encoding")) {
			/* chunked must be the last coding applied */
			size_t e = f->value_len;

			while (e > 0 && (f->value[e - 1] == ' ' || f->value[e - 1] == '\t'))
				e--;
			h->chunked = e >= 7 && strncasecmp(f->value + e - 7, "chunked", 7) == 0 &&
				     (e == 7 || f->value[e - 8] == ',' || f->value[e - 8] == ' ');
			if (!h->chunked && h->request)
				return "malformed: transfer-encoding without chunked";
		}
	}
	return NULL;
}

static const char *parse_start_line(const uint8_t *line, size_t len, struct http1_head *h)
{
	size_t i = 0;

	if (h->request) {
		while (i < len && is_tchar(line[i]))
			i++;
		if (i == 0 || i >= len || line[i] != ' ')
			return "malformed: invalid request method";
		h->method = (const char *)line;
		h->method_len = i++;
		h->target = (const char *)line + i;
		while (i < len && line[i] > ' ' && line[i] != 0x7f)
			i++;
		h->target_len = (size_t)((const char *)line + i - h->target);
		if (h->target_len == 0 || i >= len || line[i] != ' ')
			return "malformed: invalid request target";
		i++;
		if (len - i != 8 || memcmp(line + i, "HTTP/1.", 7) || line[i + 7] < '0' ||
		    line[i + 7] > '9')
			return "malformed: invalid HTTP version";
		h->minor_version = line[i + 7] - '0';
		return NULL;
	}
	if (len < 12 || memcmp(line, "HTTP/1.", 7) || line[7] < '0' || line[7] > '9' ||
	    line[8] != ' ')
		return "malformed: invalid status line";
	h->minor_version = line[7] - '0';
	for (i = 9; i < 12; i++)
		if (line[i] < '0' || line[i] > '9')
			return "malformed: invalid status code";
	h->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	if (len > 12 && line[12] != ' ')
		return "malformed: invalid status line";
	h->reason = (const char *)line + (len > 12 ? 13 : 12);
	h->reason_len = len > 12 ? len - 13 : 0;
	return NULL;
}

enum http1_body http1_default_body(const struct http1_head *h)
{
	if (h->request) {
		if (h->chunked)
			return HTTP1_BODY_CHUNKED;
		return h->content_length > 0 ? HTTP1_BODY_LENGTH : HTTP1_BODY_NONE;
	}
	if (h->status == 101)
		return HTTP1_BODY_TUNNEL;
	if (h->status < 200 || h->status == 204 || h->status == 304)
		return HTTP1_BODY_NONE;
	if (h->chunked)
		return HTTP1_BODY_CHUNKED;
	if (h->content_length >= 0)
		return h->content_length > 0 ? HTTP1_BODY_LENGTH : HTTP1_BODY_NONE;
	return HTTP1_BODY_UNTIL_CLOSE;
}

/* A complete head is in buf[0, end). */
static void deliver_head(struct http1_parser *p, size_t end)
{
	struct http1_head h = {.request = p->requests};
	size_t pos = 0, s, len;
	const char *err;
	enum http1_body body;

	next_line(p->buf.data, end, &pos, &s, &len);
	if (len > p->limits.max_start_line) {
		fail_at(p, "malformed: start line too long", true);
		return;
	}
	if ((err = parse_start_line(p->buf.data + s, len, &h)) ||
	    (err = parse_fields(p->buf.data, pos, end, h.headers, p->limits.max_headers,
				&h.n_headers)) ||
	    (err = parse_framing(&h))) {
		fail_at(p, err, true);
		return;
	}
	p->in_message = true;
	body = p->cb.head ? p->cb.head(p->userdata, &h) : http1_default_body(&h);
	/* the head is out: an idle connection (10 000 of them, say) keeps no buffer */
	http1_parser_free(p); /* only its buffer: parsing goes on */
	switch (body) {
	case HTTP1_BODY_LENGTH:
		if (h.content_length > 0) {
			p->remaining = (uint64_t)h.content_length;
			p->state = HTTP1_S_BODY_LENGTH;
			return;
		}
		end_message(p, NULL, 0);
		return;
	case HTTP1_BODY_CHUNKED:
		p->state = HTTP1_S_CHUNK_SIZE;
		return;
	case HTTP1_BODY_UNTIL_CLOSE:
		p->state = HTTP1_S_UNTIL_CLOSE;
		return;
	case HTTP1_BODY_TUNNEL:
		end_message(p, NULL, 0);
		p->state = HTTP1_S_TUNNEL;
		return;
	case HTTP1_BODY_NONE:
	default:
		end_message(p, NULL, 0);
		return;
	}
}

static bool parse_chunk_size(const uint8_t *line, size_t len, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0;

	for (; i < len; i++) {
		uint8_t c = line[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			break;
		if (v >> 59)
			return false; /* would overflow */
		v = v * 16 + (uint64_t)d;
	}
	if (i == 0)
		return false;
	/* the rest may only be whitespace and chunk extensions */
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i < len && line[i] != ';')
		return false;
	*ret = v;
	return true;
}

/* 2: s starts with a message start; 1: s could be the beginning of one; 0: neither. */
static int match_message_start(const struct http1_parser *p, const uint8_t *s, size_t n)
{
	static const char *const response[] = {"HTTP/1."};
	const char *const *patterns = p->requests ? request_methods : response;
	size_t count = p->requests ? sizeof(request_methods) / sizeof(*request_methods) : 1;
	int best = 0;

	for (size_t i = 0; i < count; i++) {
		size_t len = strlen(patterns[i]);

		if (n >= len && memcmp(s, patterns[i], len) == 0)
			return 2;
		if (n < len && memcmp(s, patterns[i], n) == 0)
			best = 1;
	}
	return best;
}

/*
 * Skip to the next line that starts like a message. A candidate cut by the end of data is kept
 * in seek_buf until the next feed decides it. *ret_used: bytes consumed.
 */
static int seek(struct http1_parser *p, const uint8_t *data, size_t len, size_t *ret_used)
{
	size_t used = 0;

	/* A held partial candidate first: extend it byte by byte. */
	while (p->seek_len && used < len) {
		int m;

		p->seek_buf[p->seek_len++] = data[used++];
		m = match_message_start(p, p->seek_buf, p->seek_len);
		if (m == 2) {
			/* the head starts with the held bytes */
			p->buf.len = 0;
			if (buf_append(p, p->seek_buf, p->seek_len) < 0)
				return -ENOMEM;
			p->seek_len = 0;
			p->state = HTTP1_S_HEAD;
			*ret_used = used;
			return 0;
		}
		if (m == 0) {
			/* not a message start; rescan the last byte as ordinary data */
			used--;
			p->skipped += p->seek_len - 1;
			p->seek_len = 0;
			p->at_line_start = false;
		}
	}
	for (size_t i = used; i < len; i++) {
		int m;

		if (!(i == used ? p->at_line_start : data[i - 1] == '\n'))
			continue;
		m = match_message_start(p, data + i, len - i);
		if (m == 2) {
			p->skipped = 0;
			p->state = HTTP1_S_HEAD;
			*ret_used = i;
			return 0;
		}
		if (m == 1) {
			memcpy(p->seek_buf, data + i, len - i); /* shorter than any pattern */
			p->seek_len = len - i;
			p->skipped += i - used;
			*ret_used = len;
			return 0;
		}
	}
	p->skipped += len - used;
	p->at_line_start = data[len - 1] == '\n';
	*ret_used = len;
	return 0;
}

/* Pass on up to p->remaining body bytes; true when the body (or chunk) is complete. */
static bool deliver_body(struct http1_parser *p, const uint8_t **data, size_t *len)
{
	size_t n = *len < p->remaining ? *len : (size_t)p->remaining;

	if (p->cb.body)
		p->cb.body(p->userdata, *data, n);
	*data += n, *len -= n;
	p->remaining -= n;
	return p->remaining == 0;
}

int http1_feed(struct http1_parser *p, const uint8_t *data, size_t len)
{
	while (len) {
		size_t n, old, end;

		switch (p->state) {
		case HTTP1_S_HEAD:
			if (p->buf.len == 0) {
				/* RFC 9112 2.2: empty lines before a message are ignored */
				while (len && (*data == '\r' || *data == '\n'))
					data++, len--;
				if (!len)
					return 0;
			}
			old = p->buf.len;
			if (buf_append_section(p, data, len, &n) < 0)
				return -ENOMEM;
			end = find_section_end(p->buf.data, old > 3 ? old - 3 : 0, p->buf.len);
			if (!end) {
				/* all n bytes belong to this (unfinished or oversized) head */
				data += n, len -= n;
				if (!memchr(p->buf.data, '\n', p->buf.len) &&
				    p->buf.len > p->limits.max_start_line)
					fail(p, "malformed: start line too long");
				else if (p->buf.len > p->limits.max_head)
					fail(p, "malformed: head too large");
				break;
			}
			data += end - old, len -= end - old;
			if (end > p->limits.max_head)
				fail(p, "malformed: head too large");
			else
				deliver_head(p, end);
			break;
		case HTTP1_S_BODY_LENGTH:
			if (deliver_body(p, &data, &len))
				end_message(p, NULL, 0);
			break;
		case HTTP1_S_CHUNK_SIZE: {
			const uint8_t *nl = memchr(data, '\n', len);
			size_t line_len;

			n = nl ? (size_t)(nl - data) + 1 : len;
			if (p->buf.len + n > MAX_CHUNK_LINE) {
				fail(p, "malformed: chunk size line too long");
				break;
			}
			if (buf_append(p, data, n) < 0)
				return -ENOMEM;
			data += n, len -= n;
			if (!nl)
				break;
			line_len = p->buf.len - 1;
			if (line_len && p->buf.data[line_len - 1] == '\r')
				line_len--;
			if (!parse_chunk_size(p->buf.data, line_len, &p->remaining)) {
				fail_at(p, "malformed: invalid chunk size", true);
				break;
			}
			p->buf.len = 0;
			p->state = p->remaining ? HTTP1_S_CHUNK_DATA : HTTP1_S_TRAILERS;
			break;
		}
		case HTTP1_S_CHUNK_DATA:
			if (deliver_body(p, &data, &len)) {
				p->state = HTTP1_S_CHUNK_DATA_END;
				p->buf.len = 0;
			}
			break;
		case HTTP1_S_CHUNK_DATA_END:
			if (*data == '\r' && p->buf.len == 0) {
				p->buf.len = 1;
			} else if (*data == '\n') {
				p->buf.len = 0;
				p->state = HTTP1_S_CHUNK_SIZE;
			} else {
				fail(p, "malformed: missing CRLF after chunk data");
				break;
			}
			data++, len--;
			break;
		case HTTP1_S_TRAILERS: {
			struct http1_header trailers[HTTP1_MAX_HEADERS];
			size_t n_trailers = 0;
			const char *err;

			old = p->buf.len;
			if (buf_append_section(p, data, len, &n) < 0)
				return -ENOMEM;
			/* An empty trailer section is just CRLF. */
			if (p->buf.data[0] == '\n' ||
			    (p->buf.len >= 2 && p->buf.data[0] == '\r' && p->buf.data[1] == '\n')) {
				size_t used = p->buf.data[0] == '\n' ? 1 : 2;

				data += used - old, len -= used - old;
				end_message(p, NULL, 0);
				break;
			}
			if (p->buf.len == 1 && p->buf.data[0] == '\r') {
				data += n, len -= n;
				break;
			}
			n = find_section_end(p->buf.data, old > 3 ? old - 3 : 0, p->buf.len);
			if (!n) {
				if (p->buf.len > p->limits.max_head) {
					fail(p, "malformed: trailers too large");
					len = 0;
					break;
				}
				data += p->buf.len - old, len -= p->buf.len - old;
				break;
			}
			data += n - old, len -= n - old;
			err = parse_fields(p->buf.data, 0, n, trailers, p->limits.max_headers,
					   &n_trailers);
			if (err) {
				fail(p, err);
				break;
			}
			end_message(p, trailers, n_trailers);
			break;
		}
		case HTTP1_S_UNTIL_CLOSE:
			if (p->cb.body)
				p->cb.body(p->userdata, data, len);
			len = 0;
			break;
		case HTTP1_S_TUNNEL:
			len = 0;
			break;
		case HTTP1_S_SEEK:
			if (seek(p, data, len, &n) < 0)
				return -ENOMEM;
			data += n, len -= n;
			break;
		}
	}
	return 0;
}

bool http1_gap(struct http1_parser *p, uint64_t gap)
{
	if (gap == 0)
		return true;
	switch (p->state) {
	case HTTP1_S_BODY_LENGTH:
	case HTTP1_S_CHUNK_DATA:
		if (gap <= p->remaining) {
			/* Lost body bytes of known extent: sizes stay true, framing stays in sync.
			 */
			if (p->cb.body)
				p->cb.body(p->userdata, NULL, gap);
			p->remaining -= gap;
			if (!p->remaining) {
				if (p->state == HTTP1_S_BODY_LENGTH)
					end_message(p, NULL, 0);
				else
					p->state = HTTP1_S_CHUNK_DATA_END;
			}
			return true;
		}
		break;
	case HTTP1_S_UNTIL_CLOSE:
		if (p->cb.body)
			p->cb.body(p->userdata, NULL, gap);
		return true;
	case HTTP1_S_TUNNEL:
		return true;
	default:
		break;
	}
	/* The next segment most likely starts at a library call boundary: a line start. */
	fail_at(p, NULL, true);
	return false;
}

void http1_finish(struct http1_parser *p)
{
	if (p->state == HTTP1_S_UNTIL_CLOSE)
		end_message(p, NULL, 0);
	else if (p->in_message)
		fail(p, "truncated: stream ended inside a message");
}
