"""Sends its reply's body with splice(2): file → pipe → socket, so the bytes never pass through the program."""
import os
import socket
import sys

path = sys.argv[1]
size = os.path.getsize(path)
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    print("listening on http://127.0.0.1:%d/" % s.getsockname()[1], flush=True)
    conn, _ = s.accept()
    conn.recv(4096)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % size)
    read_end, write_end = os.pipe()
    with open(path, "rb") as f:
        left = size
        while left:
            n = os.splice(f.fileno(), write_end, left)
            while n:
                n -= os.splice(read_end, conn.fileno(), n)
            left = size - os.lseek(f.fileno(), 0, os.SEEK_CUR)
    conn.shutdown(socket.SHUT_RDWR)
    conn.close()
