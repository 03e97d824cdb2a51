# SPDX-License-Identifier: Apache-2.0
"""A local user's flood over loopback TCP connections to a server that reads everything and
never answers: N HTTP/1.1 POSTs pipelined (http1), or an HTTP/2 preface and N HEADERS frames
opening N streams (h2), on each of CONNS connections (default 1), POST bodies of BODY bytes
(default 5), PAUSE seconds between connections (default 0: the rings may overflow). Prints {"pid", "sent", "read", "requests"} once the server has read everything,
then holds the connections open until stdin closes."""
import json
import os
import socket
import sys
import threading
import time

n = int(sys.argv[1])
mode = sys.argv[2] if len(sys.argv) > 2 else "http1"
conns = int(sys.argv[3]) if len(sys.argv) > 3 else 1
body = b"h" * (int(sys.argv[4]) if len(sys.argv) > 4 else 5)
pause = float(sys.argv[5]) if len(sys.argv) > 5 else 0


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
    payload = b"POST /flood HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body), body) * n
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(conns)
got = []


def serve():
    for _ in range(conns):
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
clients = []
for _ in range(conns):
    clients.append(socket.create_connection(listener.getsockname()))
    clients[-1].sendall(payload)
    time.sleep(pause)
server.join()
print(json.dumps({"pid": os.getpid(), "sent": len(payload) * conns,
                  "read": sum(total for _, total in got), "requests": n * conns}), flush=True)
sys.stdin.read()
for c in clients:
    c.close()
for c, _ in got:
    c.close()
