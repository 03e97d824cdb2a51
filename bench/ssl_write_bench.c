/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Time one SSL_write of 64 B, 4 KiB and 64 KiB between two SSL objects joined by an in-memory
 * BIO pair (no sockets, no network noise). Prints "size ns_per_write" per size. Only the
 * SSL_write call is timed; the peer's SSL_read that drains it is not.
 * Usage: ssl_write_bench CERT KEY ITERATIONS
 */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "ssl_write_bench: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void drain(SSL *server, int size)
{
	static unsigned char sink[1 << 16];

	while (size > 0) {
		int n = SSL_read(server, sink, sizeof(sink));

		if (n <= 0)
			die("SSL_read failed");
		size -= n;
	}
}

int main(int argc, char **argv)
{
	static unsigned char payload[1 << 16];
	static const int sizes[] = {64, 4096, 65536};
	SSL_CTX *server_ctx, *client_ctx;
	SSL *server, *client;
	BIO *client_bio, *server_bio;
	long iterations;

	if (argc != 4 || (iterations = atol(argv[3])) <= 0)
		die("usage: ssl_write_bench CERT KEY ITERATIONS");
	server_ctx = SSL_CTX_new(TLS_server_method());
	client_ctx = SSL_CTX_new(TLS_client_method());
	if (!server_ctx || !client_ctx ||
	    SSL_CTX_use_certificate_file(server_ctx, argv[1], SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(server_ctx, argv[2], SSL_FILETYPE_PEM) != 1)
		die("cannot set up TLS contexts");
	server = SSL_new(server_ctx);
	client = SSL_new(client_ctx);
	if (!BIO_new_bio_pair(&client_bio, 1 << 18, &server_bio, 1 << 18))
		die("BIO pair");
	SSL_set_bio(client, client_bio, client_bio);
	SSL_set_bio(server, server_bio, server_bio);
	SSL_set_connect_state(client);
	SSL_set_accept_state(server);
	for (int i = 0; i < 100 && (!SSL_is_init_finished(client) || !SSL_is_init_finished(server));
	     i++) {
		SSL_do_handshake(client);
		SSL_do_handshake(server);
	}
	if (!SSL_is_init_finished(client) || !SSL_is_init_finished(server))
		die("handshake did not finish");
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (unsigned char)i;

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		long long total = 0;

		for (long i = 0; i < iterations / 10 + 1; i++) { /* warm up */
			if (SSL_write(client, payload, sizes[s]) != sizes[s])
				die("SSL_write failed");
			drain(server, sizes[s]);
		}
		for (long i = 0; i < iterations; i++) {
			long long t0 = now_ns();

			if (SSL_write(client, payload, sizes[s]) != sizes[s])
				die("SSL_write failed");
			total += now_ns() - t0;
			drain(server, sizes[s]);
		}
		printf("%d %.1f\n", sizes[s], (double)total / (double)iterations);
	}
	SSL_free(client);
	SSL_free(server);
	SSL_CTX_free(client_ctx);
	SSL_CTX_free(server_ctx);
	return 0;
}
