"""A sloppy server for hhttpp's tests: no SO_REUSEADDR, listen(5), recv(1024), no shutdown, sockets never closed."""
import socket
import os
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", port))
s.listen(5)
print("listening on http://127.0.0.1:%d/" % s.getsockname()[1], flush=True)
client_connection, client_address = s.accept()
raw_data = client_connection.recv(1024)
client_connection.send(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n<h1>Hello World</h1>")
os._exit(0)  # no clean-up: Python would otherwise close the sockets as it exits
