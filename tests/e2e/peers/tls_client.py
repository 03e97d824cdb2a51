# SPDX-License-Identifier: Apache-2.0
"""TLS client (Python ssl: SSL_write_ex/SSL_read_ex). Sends one request whose body goes out in a
single write, reads the response until close, and reports the exact bytes on stdout as JSON.
With --trickle N, sends N small requests 20 ms apart on the connection instead (for restarts)."""
import base64
import json
import os
import socket
import ssl
import sys
import time

port, body_size, marker = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()
trickle = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--trickle" else 0

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
tls = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
body = (marker + os.urandom(max(0, body_size - len(marker))))[:body_size]
sent = b""
for i in range(trickle):
    piece = b"X-Trickle-%d: %s\r\n" % (i, marker)
    tls.sendall(piece)
    sent += piece
    time.sleep(0.02)
request = (b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Marker: %s\r\n"
           b"Content-Length: %d\r\n\r\n" % (port, marker, len(body)))
tls.sendall(request + body)  # one SSL_write_ex for head and body
sent += request + body
received = b""
while True:
    chunk = tls.recv(65536)
    if not chunk:
        break
    received += chunk
print(json.dumps({"pid": os.getpid(), "sent": base64.b64encode(sent).decode(),
                  "received": base64.b64encode(received).decode()}), flush=True)
