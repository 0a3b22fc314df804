"""Twilio's API host on loopback, for a program that talks to https://api.twilio.com unchanged.

``examples/rest_dialer.py`` builds a plain ``twilio.rest.Client``, which sends to
``https://api.twilio.com``; Twilio cannot be reached from the tests. ``requests`` (and so the
client) honours ``HTTPS_PROXY`` and ``REQUESTS_CA_BUNDLE``: this module runs an HTTP proxy that
accepts ``CONNECT api.twilio.com:443`` and tunnels it to a local HTTPS server holding a
certificate for api.twilio.com, signed by a certificate authority made for the test (with the
``openssl`` command), which serves ``tests/twilio_api.py``'s stand-in for the Calls resource.
Everything else the client does, TLS included, is as it would be against Twilio.
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "api.twilio.com"


@dataclass(frozen=True)
class Certificates:
    authority: Path  # what REQUESTS_CA_BUNDLE names
    certificate: Path
    key: Path


def make_certificates(directory: Path, host: str = HOST) -> Certificates:
    """A throwaway certificate authority and a certificate for ``host`` signed by it (EC keys: fast)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=30)

    curve = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=callguard docs test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    openssl("req", *curve, "-keyout", "host.key", "-out", "host.csr", "-subj", f"/CN={host}")
    (directory / "host.ext").write_text(f"subjectAltName=DNS:{host}\nextendedKeyUsage=serverAuth\n", encoding="ascii")
    openssl("x509", "-req", "-in", "host.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "host.pem",
            "-days", "2", "-extfile", "host.ext")
    return Certificates(directory / "ca.pem", directory / "host.pem", directory / "host.key")


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    for end in (source, sink):
        try:
            end.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class TwilioApiHost:
    """``wsgi_app`` served over HTTPS as ``host``, reached through an HTTP proxy (``url``) that
    tunnels ``CONNECT host:443`` to it and refuses anything else."""

    def __init__(self, wsgi_app: Any, certificates: Certificates, host: str = HOST) -> None:
        from werkzeug.serving import make_server

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificates.certificate, certificates.key)
        self._https = make_server("127.0.0.1", 0, wsgi_app, threaded=True, ssl_context=context)
        threading.Thread(target=self._https.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        backend_port = self._https.server_port
        self.refused: list[str] = []
        refused = self.refused

        class Tunnel(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                request_line = self.rfile.readline().decode("latin-1")
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # the CONNECT request's headers
                if request_line.split()[:2] != ["CONNECT", f"{host}:443"]:
                    refused.append(request_line.strip())
                    self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                    return
                self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self.wfile.flush()
                # Raw bytes both ways: TLS ends in the HTTPS server, as it would at Twilio.
                with socket.create_connection(("127.0.0.1", backend_port), timeout=10) as backend:
                    backward = threading.Thread(target=_pump, args=(backend, self.connection), daemon=True)
                    backward.start()
                    _pump(self.connection, backend)
                    backward.join(timeout=10)

        self._proxy = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Tunnel)
        self._proxy.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._proxy.server_address[1]}"
        threading.Thread(target=self._proxy.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        for server in (self._proxy, self._https):
            server.shutdown()
            server.server_close()
