/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Time of system calls cleartap watches: a 64-byte write + read over a loopback TCP connection
 * (captured as plain TCP when cleartap runs) and getppid() (no socket: only the dispatch cost
 * of the sys_enter/sys_exit programs). Prints "name ns-per-call" lines.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int tcp_pair(int *ret_client, int *ret_server)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) < 0)
		return -1;
	*ret_client = socket(AF_INET, SOCK_STREAM, 0);
	if (*ret_client < 0 || connect(*ret_client, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	*ret_server = accept(l, NULL, NULL);
	close(l);
	return *ret_server < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	char buf[64] = "cleartap syscall bench";
	int client, server;
	double t;

	if (n <= 0 || tcp_pair(&client, &server) < 0) {
		perror("syscall_bench");
		return 1;
	}
	t = now_ns();
	for (long i = 0; i < n; i++)
		if (write(client, buf, sizeof(buf)) != sizeof(buf) ||
		    read(server, buf, sizeof(buf)) != sizeof(buf))
			return 1;
	printf("tcp_write_read_64 %.1f\n", (now_ns() - t) / n);
	t = now_ns();
	for (long i = 0; i < n; i++)
		getppid();
	printf("getppid %.1f\n", (now_ns() - t) / n);
	return 0;
}
