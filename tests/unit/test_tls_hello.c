/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS hellos: real first records of curl and openssl s_server (TLS 1.3 and 1.2, the fuzz seed
 * corpus), cut short, corrupted, and assembled from chunks by the connection table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "conn_table.h"
#include "ct_test.h"
#include "tls_hello.h"

static const char *corpus;

static size_t load(const char *name, uint8_t *buf, size_t size)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", corpus, name);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(2);
	}
	n = fread(buf, 1, size, f);
	fclose(f);
	return n;
}

static void test_client_hello_tls13(void)
{
	uint8_t buf[4096];
	size_t n = load("client13", buf, sizeof(buf)), need;
	struct tls_hello h;

	CHECK(tls_hello_needed(buf, n, CLEARTAP_HELLO_MAX, &need) == 0);
	CHECK_U64(need, n);
	CHECK(tls_hello_parse(buf, n, &h) == 0);
	CHECK_U64(h.type, TLS_CLIENT_HELLO);
	CHECK_STR(h.server_name, "localhost");
	CHECK_U64(h.legacy_version, 0x0303);
	CHECK_U64(h.n_versions, 4);
	CHECK_U64(h.versions[0], 0x0304);
	CHECK_U64(h.versions[3], 0x0301);
	CHECK_U64(h.n_alpn, 1);
	CHECK_STR(h.alpn[0], "http/1.1");
	CHECK(!h.truncated);
}

static void test_server_hello_tls13(void)
{
	uint8_t buf[4096];
	size_t n = load("server13", buf, sizeof(buf));
	struct tls_hello h;

	CHECK(tls_hello_parse(buf, n, &h) == 0);
	CHECK_U64(h.type, TLS_SERVER_HELLO);
	CHECK_U64(h.n_versions, 1);
	CHECK_U64(h.versions[0], 0x0304); /* from supported_versions, not legacy_version */
	CHECK_U64(h.cipher_suite, 0x1302);
	CHECK_U64(h.n_alpn, 0);
	CHECK_STR(tls_version_name(h.versions[0]), "TLSv1.3");
}

static void test_tls12_pair(void)
{
	uint8_t buf[4096];
	size_t n = load("client12", buf, sizeof(buf));
	struct tls_hello h;

	CHECK(tls_hello_parse(buf, n, &h) == 0);
	CHECK_U64(h.n_versions, 1); /* no supported_versions: legacy_version */
	CHECK_U64(h.versions[0], 0x0303);
	n = load("server12", buf, sizeof(buf));
	CHECK(tls_hello_parse(buf, n, &h) == 0);
	CHECK_U64(h.versions[0], 0x0303);
	CHECK_U64(h.cipher_suite, 0xc030);
	CHECK_U64(h.n_alpn, 1);
	CHECK_STR(h.alpn[0], "http/1.1"); /* the choice is in the clear before TLS 1.3 */
}

static void test_capped_and_broken(void)
{
	uint8_t buf[4096];
	size_t n = load("client13", buf, sizeof(buf)), need;
	struct tls_hello h;

	/* A record longer than the capture: parsed as far as it goes, and said to be cut. */
	CHECK(tls_hello_needed(buf, 5, 200, &need) == 0);
	CHECK_U64(need, 200);
	CHECK(tls_hello_parse(buf, 200, &h) == 0);
	CHECK(h.truncated);
	CHECK_STR(h.server_name, "localhost");
	/* SNI comes first in curl's list */ /* The same bytes claimed to be whole (record and
						message) are malformed. */
	buf[3] = 0, buf[4] = 200 - 5;
	buf[6] = 0, buf[7] = 0, buf[8] = 200 - 9;
	CHECK(tls_hello_parse(buf, 200, &h) == -EBADMSG);
	n = load("client13", buf, sizeof(buf));
	/* Not a handshake record; a handshake that is not a hello. */
	buf[0] = 0x17;
	CHECK(tls_hello_needed(buf, n, CLEARTAP_HELLO_MAX, &need) == -EBADMSG);
	CHECK(tls_hello_parse(buf, n, &h) == -EBADMSG);
	buf[0] = 0x16, buf[5] = 11; /* Certificate */
	CHECK(
	    tls_hello_parse(buf, n, &h) ==
	    -ENOMSG); /* The extension list running past a message 10 bytes shorter than it says. */
	n = load("client13", buf, sizeof(buf));
	buf[3] = (uint8_t)((n - 15) >> 8), buf[4] = (uint8_t)(n - 15);
	buf[7] = (uint8_t)((n - 19) >> 8), buf[8] = (uint8_t)(n - 19);
	CHECK(tls_hello_parse(buf, n - 10, &h) == -EBADMSG);
	/* Too short for the header: more is needed. */
	CHECK(tls_hello_needed(buf, 3, CLEARTAP_HELLO_MAX, &need) == 0);
	CHECK_U64(need, 5);
}

/* Both hellos through the connection table, the ClientHello in two chunks out of order. */
static void test_assembled_by_connection(void)
{
	uint8_t client[4096], server[4096];
	size_t nc = load("client13", client, sizeof(client));
	size_t ns = load("server13", server, sizeof(server));
	uint8_t storage[sizeof(struct cleartap_tls_data) + 4096];
	struct cleartap_tls_data *rec = (struct cleartap_tls_data *)storage;
	const struct conn_info *info;
	struct conn_table *t;

	CHECK(conn_table_new(&t) == 0);
	memset(storage, 0, sizeof(storage));
	rec->hdr.type = CLEARTAP_REC_TLS_HELLO;
	rec->hdr.tgid = 42;
	rec->conn_cookie = 9;
	rec->direction = CLEARTAP_DIR_WRITE;
	/* the body first (stream offset 5), then the record header */
	rec->stream_offset = 5;
	rec->chunk_len = (uint32_t)(nc - 5);
	memcpy(rec->payload, client + 5, nc - 5);
	CHECK(conn_table_hello(t, rec, &info) == 0);
	CHECK(info->tls && !info->tls->have_client);
	rec->stream_offset = 0;
	rec->chunk_len = 5;
	memcpy(rec->payload, client, 5);
	CHECK(conn_table_hello(t, rec, &info) == 0);
	CHECK(info->tls->have_client && !info->tls->have_server);
	CHECK_STR(info->tls->client.server_name, "localhost");
	CHECK_U64(info->pid, 42);
	rec->direction = CLEARTAP_DIR_READ;
	rec->hdr.timestamp_ns = 77;
	rec->chunk_len = (uint32_t)ns;
	memcpy(rec->payload, server, ns);
	CHECK(conn_table_hello(t, rec, &info) == 1);
	CHECK_U64(info->handshake_ns, 77);
	CHECK_U64(info->tls->server.versions[0], 0x0304);
	/* later chunks of a parsed direction change nothing */
	CHECK(conn_table_hello(t, rec, &info) == 0);
	/* a chunk past the hello limit is malformed */
	rec->stream_offset = CLEARTAP_HELLO_MAX;
	CHECK(conn_table_hello(t, rec, &info) == -EBADMSG);
	conn_table_free(t);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	corpus = argv[1];
	RUN(test_client_hello_tls13);
	RUN(test_server_hello_tls13);
	RUN(test_tls12_pair);
	RUN(test_capped_and_broken);
	RUN(test_assembled_by_connection);
	return TEST_EXIT();
}
