"""A server in the blog's style, for hhttpp's tests: one request, answered with LF-only lines and no length."""
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(1)
    print("listening on http://127.0.0.1:%d/" % s.getsockname()[1], flush=True)
    client_connection, client_address = s.accept()
    raw_data = client_connection.recv(4096)
    client_connection.sendall("HTTP/1.1 200 OK\n\n<h1>Hello World</h1>".encode())
    client_connection.shutdown(socket.SHUT_RDWR)
    client_connection.close()
