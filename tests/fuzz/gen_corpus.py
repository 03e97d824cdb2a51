#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpus of the fuzz harnesses (committed; rerun after a format change)."""
import pathlib
import re
import struct

HERE = pathlib.Path(__file__).parent / "corpus"

REQUESTS = [
    b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n",
    b"POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
    b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.0\r\nConnection: close\r\n\r\n",
    b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
]
RESPONSES = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nabc",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"HTTP/1.0 200 OK\r\n\r\nuntil close",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00",
]


def hpack_literal(headers):
    """Literal header fields without indexing, new names (RFC 7541 6.2.2); short strings."""
    out = b""
    for name, value in headers:
        out += b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value
    return out


def frame(ftype, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def pieces(direction_from_client, data):
    """Split into the http2 harness's pieces: control byte (0x40 = from client) + <= 63 bytes."""
    out = b""
    for i in range(0, len(data), 63):
        chunk = data[i:i + 63]
        out += bytes([(0x40 if direction_from_client else 0) | len(chunk)]) + chunk
    return out


def h2_exchange(path, grpc=False):
    req = [(b":method", b"POST" if grpc else b"GET"), (b":scheme", b"https"),
           (b":authority", b"x"), (b":path", path)]
    if grpc:
        req.append((b"content-type", b"application/grpc"))
    client = frame(4, 0, 0, b"") + frame(1, 0x4 | (0 if grpc else 0x1), 1, hpack_literal(req))
    if grpc:
        client += frame(0, 0x1, 1, b"\x00\x00\x00\x00\x02hi")
    server = frame(4, 0, 0, b"") + frame(1, 0x4, 1, hpack_literal([(b":status", b"200")]))
    server += frame(0, 0 if grpc else 0x1, 1, b"\x00\x00\x00\x00\x02ok" if grpc else b"body")
    if grpc:
        server += frame(1, 0x5, 1, hpack_literal([(b"grpc-status", b"0"),
                                                  (b"grpc-message", b"fine")]))
    return pieces(True, client) + pieces(False, server)


# the record layouts' version, as the collector checks it
SCHEMA = int(re.search(r"#define CLEARTAP_SCHEMA_VERSION (\d+)",
                       (HERE.parents[2] / "include/cleartap/events.h").read_text()).group(1))


def record(direction, offset, payload, session=7, tgid=100, ts=1, cookie=99):
    header = struct.pack("<HHIQIIII", 1, SCHEMA, 120 + len(payload), ts, tgid, tgid, 0, 0)
    body = struct.pack("<QQQQIIIiBBB5s16sQQ", 0x5000, offset, ts, len(payload), len(payload), 0,
                       len(payload), 5, direction, 1 if direction == 0 else 2, 1, b"",
                       b"client", session, cookie)
    rec = header + body + payload
    return struct.pack("<H", len(rec)) + rec


def conn(event, cookie=99, ts=0):
    header = struct.pack("<HHIQIIII", 3, SCHEMA, 112, ts, 100, 100, 0, 0)
    body = struct.pack("<QQQQQ16s16sHHHBB", cookie, 10 * (event == 2), 20 * (event == 2),
                       10 * (event == 2), 20 * (event == 2), b"\x7f\0\0\x01",
                       b"\x7f\0\0\x01", 2, 40000, 443, 1, event)
    rec = header + body
    return struct.pack("<H", len(rec)) + rec


def main():
    for d in ("http1", "http2", "pipeline"):
        (HERE / d).mkdir(parents=True, exist_ok=True)
    for i, r in enumerate(REQUESTS):
        (HERE / "http1" / f"request{i}").write_bytes(b"\x01" + r)
        (HERE / "http1" / f"request{i}-bytewise").write_bytes(b"\x80" + r)
    for i, r in enumerate(RESPONSES):
        (HERE / "http1" / f"response{i}").write_bytes(b"\x06" + r)
    (HERE / "http2" / "get").write_bytes(h2_exchange(b"/index.html"))
    (HERE / "http2" / "grpc").write_bytes(h2_exchange(b"/pkg.Svc/Call", grpc=True))
    seq = conn(1) + record(0, 0, REQUESTS[1], ts=1) + record(1, 0, RESPONSES[0], ts=2)
    seq += record(0, len(REQUESTS[1]), REQUESTS[0], ts=3) + record(1, len(RESPONSES[0]),
                                                                     RESPONSES[2], ts=4)
    (HERE / "pipeline" / "http1-keepalive").write_bytes(seq)
    (HERE / "pipeline" / "http1-gap").write_bytes(
        record(0, 0, REQUESTS[0], ts=1) + record(0, 500, REQUESTS[1], ts=3)
        + record(1, 0, RESPONSES[0], ts=2))


if __name__ == "__main__":
    main()
