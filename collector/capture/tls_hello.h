/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS handshake metadata from the first record each side sends: the ClientHello (server name,
 * offered versions and ALPN protocols) and the ServerHello (negotiated version, cipher suite,
 * and the ALPN protocol when the version sends it in the clear, i.e. before TLS 1.3). Bounded,
 * no allocation, no I/O; input is untrusted.
 */
#ifndef CT_TLS_HELLO_H
#define CT_TLS_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_HELLO_MAX_VERSIONS 8
#define TLS_HELLO_MAX_ALPN     8
#define TLS_HELLO_ALPN_LEN     32 /* longer protocol names are cut */

enum tls_hello_type {
	TLS_CLIENT_HELLO = 1,
	TLS_SERVER_HELLO = 2,
};

struct tls_hello {
	uint8_t type; /* enum tls_hello_type */
	uint16_t legacy_version;
	/* ClientHello: supported_versions offered, else legacy_version; ServerHello: the one */
	uint16_t versions[TLS_HELLO_MAX_VERSIONS];
	uint8_t n_versions;
	uint16_t cipher_suite; /* ServerHello */
	char server_name[256]; /* ClientHello SNI host_name; "" when absent */
	char alpn[TLS_HELLO_MAX_ALPN][TLS_HELLO_ALPN_LEN + 1];
	uint8_t n_alpn;
	bool
	    truncated; /* the record was longer than what was captured: extensions may be missing */
};

/*
 * How many leading bytes the first record of a direction needs: 5 for its header, then the
 * length it names, capped at `cap`. -EBADMSG when it is not a handshake record.
 */
int tls_hello_needed(const uint8_t *data, size_t len, size_t cap, size_t *ret_needed);

/*
 * Parse a direction's first record, of which data holds tls_hello_needed() bytes (len <
 * the record when capped). -EBADMSG malformed, -ENOMSG a handshake message other than a hello.
 */
int tls_hello_parse(const uint8_t *data, size_t len, struct tls_hello *ret);

/* "TLSv1.3", ..., "SSLv3"; NULL for values with no name (GREASE, unknown). */
const char *tls_version_name(uint16_t version);

#endif
