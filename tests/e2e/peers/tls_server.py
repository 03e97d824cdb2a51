# SPDX-License-Identifier: Apache-2.0
"""One-shot TLS server (Python ssl: SSL_read_ex/SSL_write_ex). Reads one HTTP/1.1 request with
a Content-Length body, answers with a body of the requested size, and reports the exact bytes it
received and sent as JSON on stdout after the connection closes."""
import base64
import json
import os
import socket
import ssl
import sys

cert, key, port, body_size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
marker = sys.argv[5].encode()

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(1)
print("ready", flush=True)
conn, _ = srv.accept()
tls = ctx.wrap_socket(conn, server_side=True)
received = b""
while b"\r\n\r\n" not in received:
    received += tls.recv(65536)
head, _, rest = received.partition(b"\r\n\r\n")
length = 0
for line in head.split(b"\r\n")[1:]:
    name, _, value = line.partition(b":")
    if name.strip().lower() == b"content-length":
        length = int(value)
while len(received) - len(head) - 4 < length:
    received += tls.recv(65536)
body = (marker + os.urandom(max(0, body_size - len(marker))))[:body_size]
sent = (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)) + body
tls.sendall(sent)
tls.close()
print(json.dumps({"pid": os.getpid(), "received": base64.b64encode(received).decode(),
                  "sent": base64.b64encode(sent).decode()}), flush=True)
