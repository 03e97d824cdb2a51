# SPDX-License-Identifier: Apache-2.0
"""A local user's flood: N small HTTP/1.1 POSTs pipelined over one loopback TCP connection to a
server that reads them all and never answers. Prints {"pid", "sent", "requests"} once the
server has read everything, then holds the connection open until stdin closes."""
import json
import os
import socket
import sys
import threading

n = int(sys.argv[1])
request = b"POST /flood HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1)
got = []


def serve():
    conn, _ = listener.accept()
    total = 0
    while total < n * len(request):
        chunk = conn.recv(1 << 16)
        if not chunk:
            break
        total += len(chunk)
    got.append((conn, total))


server = threading.Thread(target=serve)
server.start()
client = socket.create_connection(listener.getsockname())
payload = request * n
client.sendall(payload)
server.join()
print(json.dumps({"pid": os.getpid(), "sent": len(payload), "read": got[0][1], "requests": n}),
      flush=True)
sys.stdin.read()
client.close()
got[0][0].close()
