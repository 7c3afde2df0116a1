"""A non-blocking accept loop: accept until EAGAIN, wait in select, read and answer, then close."""
import select
import socket

BODY = b"<h1>Hello World</h1>"
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    s.setblocking(False)
    try:
        s.accept()
    except BlockingIOError:
        pass  # EAGAIN: nobody yet, as expected
    print("listening on http://127.0.0.1:%d/" % s.getsockname()[1], flush=True)
    select.select([s], [], [])
    conn, _ = s.accept()
    conn.setblocking(False)
    while True:
        try:
            conn.recv(4096)
            break
        except BlockingIOError:
            select.select([conn], [], [])  # EAGAIN: not here yet; wait until it is
    conn.setblocking(True)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY)
    conn.close()
