/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proto3 JSON mapping of any protobuf-c message, driven by its descriptor, so the JSON output
 * can never drift from the protobuf schema: lowerCamelCase names, 64-bit integers as strings,
 * bytes as base64, enums by name, default (zero) values omitted, strings as valid UTF-8.
 */
#ifndef CT_PROTO_JSON_H
#define CT_PROTO_JSON_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "buf.h"

void proto_json_write(struct ct_buf *out, const ProtobufCMessage *message);

/* JSON string literal of arbitrary bytes: escapes, invalid UTF-8 replaced by U+FFFD. */
void proto_json_string(struct ct_buf *out, const uint8_t *s, size_t len);

/* Valid UTF-8 without control characters but tab (and CR, LF with multiline): shown as text. */
bool proto_json_is_text(const uint8_t *s, size_t len, bool multiline);

void proto_json_base64(struct ct_buf *out, const uint8_t *data, size_t len);

#endif
