"""An HTTP server on loopback that answers one byte at a time: the slowest answer that never
lets a per-read timeout fire (each byte comes well inside it)."""

from __future__ import annotations

import socket
import threading

ANSWER = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: text/xml\r\n"
    b"X-Padding: the headers alone take this long to arrive\r\n"
    b"Content-Length: 37\r\n"
    b"\r\n"
    b"<Response><Hangup /></Response>\n\n\n\n\n\n"
)


class TrickleServer:
    """Accepts connections, reads the request, then writes :data:`ANSWER` a byte every ``interval`` seconds."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}/voice"
        threading.Thread(target=self._accept, name="trickle-server", daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._answer, args=(client,), daemon=True).start()

    def _answer(self, client: socket.socket) -> None:
        with client:
            try:
                client.settimeout(5)
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = client.recv(65536)
                    if not chunk:
                        return
                    request += chunk
                for byte in ANSWER:
                    if self._stop.wait(self.interval):
                        return
                    client.sendall(bytes([byte]))
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
