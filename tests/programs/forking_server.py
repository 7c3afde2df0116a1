"""A server for hhttpp's tests that uses what the blog does not: a second bind without SO_REUSEADDR, a child
process per connection, os.read on the socket, and sendmsg with two buffers."""
import os
import socket

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen(2)
port = s.getsockname()[1]
other = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    other.bind(("127.0.0.1", port))
except OSError:
    pass
other.close()
print("listening on http://127.0.0.1:%d/" % port, flush=True)
client_connection, client_address = s.accept()
if os.fork() == 0:
    fd = client_connection.fileno()
    request = b""
    while b"\r\n\r\n" not in request:
        request += os.read(fd, 4096)
    body = b"<h1>Hello World</h1>"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body)
    client_connection.sendmsg([head, body])
    os.read(fd, 4096)  # 0 once the client has read the reply and closed
    client_connection.close()
    os._exit(0)
client_connection.close()
os.wait()
s.close()
