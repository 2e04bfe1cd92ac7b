"""Small proxies on 127.0.0.1 for tests, counting what passed through: an HTTP forward proxy
(absolute-form requests for http://, CONNECT tunnels for https://; optional Basic credentials)
and a SOCKS5 proxy (RFC 1928 CONNECT; optional username/password, RFC 1929)."""

from __future__ import annotations

import base64
import socket
import socketserver
import threading
from typing import List, Optional, Tuple, TypeVar
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

_P = TypeVar("_P", bound="_Proxy")


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Relay both ways until each side has finished sending; then close ``b``."""

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


class _Proxy:
    """A threaded TCP server on 127.0.0.1, on a port of its own, until closed."""

    port: int

    def _serve(self, handler: type) -> None:
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self: _P) -> _P:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ForwardProxy(_Proxy):
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
                    _pipe(self.connection, upstream)
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

        self._serve(Handler)
        self.url = f"http://127.0.0.1:{self.port}"


class Socks5Proxy(_Proxy):
    """A SOCKS5 proxy (CONNECT only). ``seen`` lists the ``(host, port)`` each client asked for,
    as it asked: a host name when the client let the proxy resolve it (``socks5h://``), an
    address when it resolved the name itself (``socks5://``)."""

    def __init__(self, username: Optional[str] = None, password: Optional[str] = None) -> None:
        self.seen: List[Tuple[str, int]] = []
        self.refused = 0
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                read = self.rfile.read
                version, count = read(2)
                methods = read(count)
                wanted = 2 if username is not None else 0  # 2: username/password, 0: none
                if version != 5 or wanted not in methods:
                    self.wfile.write(bytes([5, 0xFF]))
                    proxy.refused += 1
                    return
                self.wfile.write(bytes([5, wanted]))
                self.wfile.flush()
                if wanted == 2:
                    _, ulen = read(2)
                    user = read(ulen).decode()
                    (plen,) = read(1)
                    secret = read(plen).decode()
                    ok = user == username and secret == password
                    self.wfile.write(bytes([1, 0 if ok else 1]))
                    self.wfile.flush()
                    if not ok:
                        proxy.refused += 1
                        return
                _, command, _, kind = read(4)
                if kind == 1:
                    host = socket.inet_ntoa(read(4))
                elif kind == 3:
                    (length,) = read(1)
                    host = read(length).decode()
                else:
                    host = socket.inet_ntop(socket.AF_INET6, read(16))
                port = int.from_bytes(read(2), "big")
                if command != 1:  # only CONNECT
                    self.wfile.write(bytes([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]))
                    return
                proxy.seen.append((host, port))
                upstream = socket.create_connection((host, port), timeout=30)
                self.wfile.write(bytes([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]))
                self.wfile.flush()
                _pipe(self.connection, upstream)

        self._serve(Handler)

    def url(self, scheme: str = "socks5h") -> str:
        return f"{scheme}://127.0.0.1:{self.port}"
