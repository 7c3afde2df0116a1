"""A server in the blog's style that pauses after its first recv, its first send and its shutdown, for hhttpp's tests.

hhttpp trace reads a connection's TCP state at once after these calls, and shows it only when the program's next
call began after that: the pauses make the proof certain, so the states must be shown.
"""
import socket
import sys
import time

port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(1)
    print("listening on http://127.0.0.1:%d/" % s.getsockname()[1], flush=True)
    client_connection, client_address = s.accept()
    raw_data = client_connection.recv(4096)
    time.sleep(0.3)
    client_connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    time.sleep(0.3)
    client_connection.shutdown(socket.SHUT_RDWR)
    time.sleep(0.3)
    client_connection.close()
