"""A faithful server for hhttpp's tests: the serve-text lesson's calls and bytes, in Python."""
import socket
import sys

BODY = b"<h1>Hello World</h1>"
port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(1)
    print("listening on http://127.0.0.1:%d/" % s.getsockname()[1], flush=True)
    client_connection, client_address = s.accept()
    raw_data = client_connection.recv(4096)
    head = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
    client_connection.sendall((head % len(BODY)).encode() + BODY)
    client_connection.shutdown(socket.SHUT_RDWR)
    client_connection.close()
