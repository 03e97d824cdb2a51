# SPDX-License-Identifier: Apache-2.0
"""A local user's N idle loopback connections: a client process opens N TCP connections to a
server process and sends one HTTP/1.1 request on each; the server reads every request and never
answers. Prints {"client", "server", "connections", "read"} once the server has read them all,
then holds every connection open until stdin closes, and closes them all."""
import json
import os
import resource
import socket
import sys

n = int(sys.argv[1])
REQUEST = b"GET /idle HTTP/1.1\r\nHost: x\r\n\r\n"
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(4096)
port = listener.getsockname()[1]
ready_r, ready_w = os.pipe()
done_r, done_w = os.pipe()
server = os.fork()
if server == 0:  # the server: accept and read each request, answer none
    os.close(ready_r)
    os.close(done_w)
    held, read = [], 0
    for _ in range(n):
        conn, _ = listener.accept()
        got = b""
        while len(got) < len(REQUEST):
            chunk = conn.recv(len(REQUEST) - len(got))
            if not chunk:
                break
            got += chunk
        read += got == REQUEST
        held.append(conn)
    os.write(ready_w, b"%d\n" % read)
    os.read(done_r, 1)  # the client is closing
    for conn in held:
        conn.close()
    os._exit(0)
listener.close()
os.close(ready_w)
os.close(done_r)
clients = []
for _ in range(n):
    clients.append(socket.create_connection(("127.0.0.1", port)))
    clients[-1].sendall(REQUEST)
read = int(os.read(ready_r, 64))
print(json.dumps({"client": os.getpid(), "server": server, "connections": n, "read": read}),
      flush=True)
sys.stdin.read()
for c in clients:
    c.close()
os.write(done_w, b"x")
os.waitpid(server, 0)
