"""A small HTTP forward proxy on 127.0.0.1 for tests: absolute-form requests (http://) and
CONNECT tunnels (https://), counting what passed through. Optional Basic credentials."""

from __future__ import annotations

import base64
import socket
import socketserver
import threading
from typing import List, Optional, Tuple
from urllib.parse import urlsplit


def _read_head(sock_file) -> Tuple[str, List[Tuple[str, str]]]:  # type: ignore[no-untyped-def]
    line = sock_file.readline(65536).decode("latin-1").rstrip("\r\n")
    headers = []
    while True:
        h = sock_file.readline(65536).decode("latin-1").rstrip("\r\n")
        if not h:
            break
        name, _, value = h.partition(":")
        headers.append((name.strip(), value.strip()))
    return line, headers


class ForwardProxy:
    def __init__(self, username: Optional[str] = None, password: Optional[str] = None) -> None:
        self.seen: List[Tuple[str, str]] = []
        self.refused = 0
        self._auth = None
        if username is not None:
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            self._auth = f"Basic {token}"
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                line, headers = _read_head(self.rfile)
                if not line:
                    return
                method, target, _ = line.split(" ", 2)
                given = {k.lower(): v for k, v in headers}
                if proxy._auth and given.get("proxy-authorization") != proxy._auth:
                    proxy.refused += 1
                    self.wfile.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                                     b"Proxy-Authenticate: Basic\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                proxy.seen.append((method, target))
                if method == "CONNECT":
                    host, port = target.rsplit(":", 1)
                    upstream = socket.create_connection((host, int(port)), timeout=30)
                    self.wfile.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                    self.wfile.flush()
                    self._pipe(self.connection, upstream)
                    return
                url = urlsplit(target)
                body = self.rfile.read(int(given.get("content-length", "0") or 0))
                path = url.path + (f"?{url.query}" if url.query else "")
                out = [f"{method} {path} HTTP/1.1"]
                out += [f"{k}: {v}" for k, v in headers
                        if k.lower() not in ("proxy-authorization", "proxy-connection", "connection")]
                out.append("Connection: close")
                upstream = socket.create_connection((url.hostname, url.port or 80), timeout=30)
                upstream.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
                while True:
                    chunk = upstream.recv(65536)
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                upstream.close()

            def _pipe(self, a: socket.socket, b: socket.socket) -> None:
                def pump(src: socket.socket, dst: socket.socket) -> None:
                    try:
                        while True:
                            data = src.recv(65536)
                            if not data:
                                break
                            dst.sendall(data)
                    except OSError:
                        pass
                    finally:
                        try:
                            dst.shutdown(socket.SHUT_WR)
                        except OSError:
                            pass

                t = threading.Thread(target=pump, args=(b, a), daemon=True)
                t.start()
                pump(a, b)
                t.join(30)
                b.close()

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "ForwardProxy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
