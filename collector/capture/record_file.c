/* SPDX-License-Identifier: Apache-2.0 */
#include "record_file.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cleartap/events.h"

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int record_file_start(int fd)
{
	return write_all(fd, RECORD_FILE_MAGIC, strlen(RECORD_FILE_MAGIC));
}

int record_file_write_pass(int fd, const struct record_batch *pass)
{
	struct ct_buf out = {};
	uint32_t end = 0;
	int r;

	/* arrival order: the refs are in it until the pass is sorted */
	for (size_t i = 0; i < pass->n; i++) {
		const struct record_ref *ref = &pass->refs[i];
		uint32_t size = ref->size;

		ct_buf_put(&out, &size, sizeof(size));
		ct_buf_put(&out, pass->data.data + ref->offset, size);
	}
	ct_buf_put(&out, &end, sizeof(end));
	r = out.failed ? -ENOMEM : write_all(fd, out.data, out.len);
	ct_buf_free(&out);
	return r;
}

const void *record_file_next(const uint8_t *data, size_t len, size_t *pos, size_t *ret_size,
			     int *ret_error)
{
	size_t magic = strlen(RECORD_FILE_MAGIC);
	uint32_t size;
	const void *record;

	*ret_error = 0;
	if (*pos == 0) {
		if (len < magic || memcmp(data, RECORD_FILE_MAGIC, magic) != 0) {
			*ret_error = -EBADMSG;
			*ret_size = 1;
			return NULL;
		}
		*pos = magic;
	}
	if (len - *pos < sizeof(size)) {
		*ret_error = *pos == len ? 0 : -EBADMSG;
		*ret_size = 1;
		return NULL;
	}
	memcpy(&size, data + *pos, sizeof(size));
	*pos += sizeof(size);
	if (size == 0) {
		*ret_size = 0;
		return NULL;
	}
	if (size > len - *pos || size < sizeof(struct cleartap_record_header)) {
		*ret_error = -EBADMSG;
		*ret_size = 1;
		return NULL;
	}
	record = data + *pos;
	*pos += size;
	*ret_size = size;
	return record;
}
