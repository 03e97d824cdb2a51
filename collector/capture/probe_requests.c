/* SPDX-License-Identifier: Apache-2.0 */
#include "probe_requests.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "ct_macro.h"
#include "tls_probes.h"

#define SEEN_MAX    8192	 /* files remembered; beyond that, files are asked again */
#define FOREIGN_KEY (1ull << 63) /* no device number has it: (namespace, path) keys */

struct seen {
	uint64_t a, b;
};

struct pending {
	struct cleartap_handoff_attach_request request;
	struct seen key;
};

struct probe_requests {
	int fd;
	uint32_t mnt_ns;
	bool gone; /* the loader closed the lease, or spoke garbage */
	struct seen *seen;
	size_t n_seen;
	/* a ring: [head, head + n_queued) waiting, the first in_flight of them sent */
	struct pending *queue;
	size_t head, n_queued, in_flight;
	uint8_t answer[sizeof(struct cleartap_handoff_attach_answer)];
	size_t answer_got;
	probe_requests_limit_fn on_limit;
	void *limit_userdata;
};

static bool seen_before(const struct probe_requests *pr, struct seen key)
{
	for (size_t i = 0; i < pr->n_seen; i++)
		if (pr->seen[i].a == key.a && pr->seen[i].b == key.b)
			return true;
	return false;
}

static void remember(struct probe_requests *pr, struct seen key)
{
	if (pr->n_seen < SEEN_MAX)
		pr->seen[pr->n_seen++] = key;
}

static void forget(struct probe_requests *pr, struct seen key)
{
	for (size_t i = 0; i < pr->n_seen; i++)
		if (pr->seen[i].a == key.a && pr->seen[i].b == key.b) {
			pr->seen[i] = pr->seen[--pr->n_seen];
			return;
		}
}

int probe_requests_new(int lease_fd, uint32_t mnt_ns,
		       const struct cleartap_handoff_attachment *known, size_t n_known,
		       struct probe_requests **ret)
{
	struct probe_requests *pr = calloc(1, sizeof(*pr));

	if (!pr)
		return -ENOMEM;
	pr->seen = calloc(SEEN_MAX, sizeof(*pr->seen));
	pr->queue = calloc(PROBE_REQUESTS_QUEUED, sizeof(*pr->queue));
	if (!pr->seen || !pr->queue) {
		probe_requests_free(pr);
		return -ENOMEM;
	}
	pr->fd = lease_fd;
	pr->mnt_ns = mnt_ns;
	for (size_t i = 0; i < n_known; i++)
		remember(pr, (struct seen){known[i].dev, known[i].ino});
	*ret = pr;
	return 0;
}

void probe_requests_free(struct probe_requests *pr)
{
	if (!pr)
		return;
	free(pr->queue);
	free(pr->seen);
	free(pr);
}

/* Send what may be sent: at most CLEARTAP_HANDOFF_MAX_IN_FLIGHT unanswered. */
static void send_queued(struct probe_requests *pr)
{
	while (!pr->gone && pr->in_flight < pr->n_queued &&
	       pr->in_flight < CLEARTAP_HANDOFF_MAX_IN_FLIGHT) {
		const struct pending *p =
		    &pr->queue[(pr->head + pr->in_flight) % PROBE_REQUESTS_QUEUED];
		/* sixteen requests are far less than a socket buffer: all or nothing */
		ssize_t n =
		    send(pr->fd, &p->request, sizeof(p->request), MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n != (ssize_t)sizeof(p->request)) {
			pr->gone = true;
			return;
		}
		pr->in_flight++;
	}
}

static uint64_t path_hash(const char *path)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *path; path++)
		h = (h ^ (uint8_t)*path) * 1099511628211ull;
	return h;
}

int probe_requests_file(struct probe_requests *pr, uint32_t pid, const char *path, uint32_t mnt_ns,
			bool is_library, struct cleartap_handoff_attachment *ret_report)
{
	static const struct tls_probe_plan none = {.library_name = ""};
	const bool foreign = pr->mnt_ns && mnt_ns && mnt_ns != pr->mnt_ns;
	struct cleartap_handoff_attach_request req = {
	    .magic = CLEARTAP_ATTACH_REQUEST_MAGIC,
	    .pid = pid,
	    .mnt_ns = mnt_ns ? mnt_ns : pr->mnt_ns,
	    .flags = is_library ? CLEARTAP_REQUEST_LIBRARY : 0,
	};
	struct seen key;
	struct stat st;

	if (!path[0] || strlen(path) >= sizeof(req.path))
		return 0;
	if (path[0] != '/' && is_library)
		return 0; /* dynamic loaders open libraries by absolute path */
	if (path[0] != '/') {
		/* run as ./prog: the loader's broker opens the process's own executable */
		key = (struct seen){FOREIGN_KEY | (uint64_t)pid << 32, path_hash(path)};
	} else if (foreign) {
		key = (struct seen){FOREIGN_KEY | mnt_ns, path_hash(path)};
	} else {
		/* stat(), not open(): the collector reads no file it names, and an open of a
		 * library would be a library open the kernel reports back */
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			return 0; /* gone, or not a file */
		key = (struct seen){st.st_dev, st.st_ino};
		req.dev = st.st_dev;
		req.ino = st.st_ino;
	}
	if (seen_before(pr, key))
		return 0;
	strcpy(req.path, path);
	if (pr->gone || pr->n_queued == PROBE_REQUESTS_QUEUED) {
		tls_probe_report(&none, pr->gone ? CLEARTAP_ATTACH_FAILED : CLEARTAP_ATTACH_REFUSED,
				 req.dev, req.ino, path,
				 pr->gone
				     ? "the loader is gone: files that appear now are not probed"
				     : "too many files waiting for the loader's answer",
				 ret_report);
		return 1; /* not remembered: asked again when next seen */
	}
	remember(pr, key);
	pr->queue[(pr->head + pr->n_queued++) % PROBE_REQUESTS_QUEUED] =
	    (struct pending){.request = req, .key = key};
	send_queued(pr);
	return 0;
}

int probe_requests_call_limit(struct probe_requests *pr, uint32_t limit,
			      probe_requests_limit_fn on_answer, void *userdata)
{
	struct cleartap_handoff_attach_request req = {
	    .magic = CLEARTAP_ATTACH_REQUEST_MAGIC,
	    .ino = limit,
	    .flags = CLEARTAP_REQUEST_CALL_LIMIT,
	};

	if (pr->gone)
		return -ECONNRESET;
	if (pr->n_queued == PROBE_REQUESTS_QUEUED)
		return -EAGAIN;
	pr->on_limit = on_answer;
	pr->limit_userdata = userdata;
	pr->queue[(pr->head + pr->n_queued++) % PROBE_REQUESTS_QUEUED] =
	    (struct pending){.request = req};
	send_queued(pr);
	return 0;
}

void probe_requests_resume(struct probe_requests *pr, int lease_fd)
{
	pr->fd = lease_fd;
	pr->gone = false;
	pr->in_flight = 0; /* unanswered: sent again */
	pr->answer_got = 0;
	send_queued(pr);
}

int probe_requests_receive(struct probe_requests *pr,
			   void (*on_answer)(void *, const struct cleartap_handoff_attachment *,
					     uint32_t, bool),
			   void *userdata)
{
	const struct cleartap_handoff_attach_answer *a = (const void *)pr->answer;

	while (!pr->gone) {
		ssize_t n = recv(pr->fd, pr->answer + pr->answer_got,
				 sizeof(pr->answer) - pr->answer_got, MSG_DONTWAIT);
		struct pending *p;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			pr->gone = true;
			return -ECONNRESET;
		}
		pr->answer_got += (size_t)n;
		if (pr->answer_got < sizeof(pr->answer))
			continue;
		pr->answer_got = 0;
		if (a->magic != CLEARTAP_ATTACH_ANSWER_MAGIC || pr->in_flight == 0) {
			pr->gone = true;
			return -EPROTO;
		}
		p = &pr->queue[pr->head];
		pr->head = (pr->head + 1) % PROBE_REQUESTS_QUEUED;
		pr->n_queued--;
		pr->in_flight--;
		if (p->request.flags == CLEARTAP_REQUEST_CALL_LIMIT) {
			if (pr->on_limit)
				pr->on_limit(pr->limit_userdata, &a->attachment);
			send_queued(pr);
			continue;
		}
		if (a->attachment.status == CLEARTAP_ATTACH_REFUSED)
			forget(pr, p->key); /* for now: asked again when next seen */
		on_answer(userdata, &a->attachment, p->request.pid,
			  p->request.flags & CLEARTAP_REQUEST_LIBRARY);
		send_queued(pr);
	}
	return -ECONNRESET;
}
