# SPDX-License-Identifier: Apache-2.0
"""A non-blocking TLS peer (Python ssl: SSL_read_ex/SSL_write_ex on a non-blocking socket), so
that reads return WANT_READ and writes WANT_WRITE again and again between the calls that move
data. server: accept, read SIZE bytes, answer SIZE bytes. client: send SIZE bytes, read SIZE.
The reader is slow (sleeps between reads) so the writer fills the socket buffers. Reports, on
stdout as JSON, the pid, the sha256 and length of what it sent and received, and how often each
call came back without data."""
import hashlib
import json
import os
import select
import socket
import ssl
import sys
import time

role, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
counts = {"want_read": 0, "want_write": 0, "reads": 0, "writes": 0}


def send_all(tls, data):
    view = memoryview(data)
    while view:
        piece = view[:256 * 1024]
        try:
            n = tls.send(piece)
            counts["writes"] += 1
            view = view[n:]
        except ssl.SSLWantWriteError:
            counts["want_write"] += 1
            select.select([], [tls], [], 5)
        except ssl.SSLWantReadError:
            counts["want_read"] += 1
            select.select([tls], [], [], 5)


def recv_exactly(tls, n, slow):
    got = bytearray()
    while len(got) < n:
        try:
            chunk = tls.recv(min(65536, n - len(got)))
            counts["reads"] += 1
            if not chunk:
                break
            got += chunk
            if slow:
                time.sleep(0.002)
        except ssl.SSLWantReadError:
            counts["want_read"] += 1
            select.select([tls], [], [], 5)
    return bytes(got)


def handshake(tls):
    while True:
        try:
            tls.do_handshake()
            return
        except ssl.SSLWantReadError:
            select.select([tls], [], [], 5)
        except ssl.SSLWantWriteError:
            select.select([], [tls], [], 5)


payload = os.urandom(size)
if role == "server":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # small buffers, so that the writer on the other side fills them and waits
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
    listener.bind(("127.0.0.1", port))
    listener.listen()
    print("ready", flush=True)
    conn, _ = listener.accept()
    conn.setblocking(False)
    tls = ctx.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
    handshake(tls)
    received = recv_exactly(tls, size, slow=True)
    send_all(tls, payload)
else:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = socket.socket()
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    conn.connect(("127.0.0.1", port))
    conn.setblocking(False)
    tls = ctx.wrap_socket(conn, do_handshake_on_connect=False)
    handshake(tls)
    send_all(tls, payload)
    received = recv_exactly(tls, size, slow=False)
# stay until the peer has everything: closing early could cut its last reads short
time.sleep(0.3)
print(json.dumps({"pid": os.getpid(), "sent_sha256": hashlib.sha256(payload).hexdigest(),
                  "sent": len(payload), "received_sha256": hashlib.sha256(received).hexdigest(),
                  "received": len(received), **counts}), flush=True)
