"""The blog's server, answering from a threading.Thread: the connection is accepted in the main thread and read,
answered and closed in another, which shares the process's descriptors."""
import socket
import threading

BODY = b"<h1>Hello World</h1>"


def answer(client_connection):
    client_connection.recv(4096)
    head = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
    client_connection.sendall((head % len(BODY)).encode() + BODY)
    client_connection.shutdown(socket.SHUT_RDWR)
    client_connection.close()


with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    print("listening on http://127.0.0.1:%d/" % s.getsockname()[1], flush=True)
    client_connection, client_address = s.accept()
    thread = threading.Thread(target=answer, args=(client_connection,))
    thread.start()
    thread.join()
