# SPDX-License-Identifier: Apache-2.0
"""A local user's flood over one loopback TCP connection to a server that reads everything and
never answers: N small HTTP/1.1 POSTs pipelined (http1), or an HTTP/2 preface and N HEADERS
frames opening N streams (h2). Prints {"pid", "sent", "read", "requests"} once the server has
read everything, then holds the connection open until stdin closes."""
import json
import os
import socket
import sys
import threading

n = int(sys.argv[1])
mode = sys.argv[2] if len(sys.argv) > 2 else "http1"


def literal(name, value):  # HPACK: literal header field without indexing, new name
    return bytes([0, len(name)]) + name + bytes([len(value)]) + value


def h2_headers(stream):
    block = (literal(b":method", b"GET") + literal(b":scheme", b"http") +
             literal(b":path", b"/flood") + literal(b":authority", b"x"))
    # HEADERS, END_STREAM | END_HEADERS
    return len(block).to_bytes(3, "big") + bytes([1, 0x5]) + stream.to_bytes(4, "big") + block


if mode == "h2":
    payload = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes(9)[:3] + bytes([4, 0, 0, 0, 0, 0]) + \
        b"".join(h2_headers(2 * i + 1) for i in range(n))
else:
    payload = b"POST /flood HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" * n
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1)
got = []


def serve():
    conn, _ = listener.accept()
    total = 0
    while total < len(payload):
        chunk = conn.recv(1 << 16)
        if not chunk:
            break
        total += len(chunk)
    got.append((conn, total))


server = threading.Thread(target=serve)
server.start()
client = socket.create_connection(listener.getsockname())
client.sendall(payload)
server.join()
print(json.dumps({"pid": os.getpid(), "sent": len(payload), "read": got[0][1], "requests": n}),
      flush=True)
sys.stdin.read()
client.close()
got[0][0].close()
