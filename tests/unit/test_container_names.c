/* SPDX-License-Identifier: Apache-2.0 */
/* kubelet's log link names parsed, listed from a directory, re-listed for a new container. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container_names.h"
#include "ct_test.h"

#define ID  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static void test_parse(void)
{
	static const char *const bad[] = {
	    "web-7d4b9_default_nginx.log",     /* no id */
	    "web_default_nginx-" ID ".txt",    /* not a log link */
	    "web_default-" ID ".log",	       /* two names */
	    "web_default_side_car-" ID ".log", /* '_' in a name */
	    "Web_default_nginx-" ID ".log",    /* upper case */
	    "web_default_nginx_" ID ".log",    /* no '-' before the id */
	    "web_def.ault_nginx-" ID ".log",   /* a namespace is a label */
	    "web_default_nginx-" ID "0.log",   /* 65 digits */
	    "_default_nginx-" ID ".log",       /* empty pod */
	};
	struct container_names n;

	CHECK(container_names_parse("web-7d4b9-xk2p.v1_kube-system_nginx-" ID ".log", &n) == 0);
	CHECK_STR(n.pod, "web-7d4b9-xk2p.v1");
	CHECK_STR(n.pod_namespace, "kube-system");
	CHECK_STR(n.container, "nginx");
	CHECK_STR(n.id, ID);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(container_names_parse(bad[i], &n) == -EINVAL);
}

static void link_in(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK(symlink("/var/log/pods/somewhere/0.log", path) == 0);
}

static void test_listing(void)
{
	char dir[] = "/tmp/ct-container-names-XXXXXX";
	struct container_names_dir *d;
	const struct container_names *n;

	CHECK(mkdtemp(dir) != NULL);
	link_in(dir, "api-0_prod_server-" ID ".log");
	link_in(dir, "not-a-container.log");
	CHECK(container_names_from_fd(open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), &d) == 0);
	n = container_names_find(d, ID);
	CHECK(n && strcmp(n->pod, "api-0") == 0 && strcmp(n->container, "server") == 0);
	CHECK(container_names_find(d, "host") == NULL);
	CHECK(container_names_find(d, ID2) == NULL); /* not there yet */
	link_in(dir, "api-1_prod_sidecar-" ID2 ".log");
	CHECK(container_names_find(d, ID2) == NULL); /* within a second of the last listing */
	usleep(CONTAINER_NAMES_RELIST_NS / 1000);
	n = container_names_find(d, ID2);
	CHECK(n && strcmp(n->pod, "api-1") == 0 && strcmp(n->pod_namespace, "prod") == 0);
	container_names_close(d);
	CHECK(container_names_from_fd(open("/dev/null", O_RDONLY | O_CLOEXEC), &d) == -ENOTDIR);
	{
		char rm[64];

		snprintf(rm, sizeof(rm), "rm -rf %s", dir);
		CHECK(system(rm) == 0);
	}
}

int main(void)
{
	RUN(test_parse);
	RUN(test_listing);
	return TEST_EXIT();
}
