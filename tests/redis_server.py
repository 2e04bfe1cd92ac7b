"""A real ``redis-server`` for the tests, and a minimal RESP client to inspect it.

``.ci/run`` (scripts/test.sh) installs redis-server and starts one on 127.0.0.1, exporting its
URL as ``TCA_TEST_REDIS_URL``; without it the tests start their own from ``PATH``. Tests that
stop Redis mid-run always start a private one, so the shared server stays up for the others.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
from typing import Any, List, Optional, Union

Reply = Union[None, int, bytes, List[Any]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RedisServer:
    """A redis-server process on 127.0.0.1 that this run owns (its log in ``self.dir``)."""

    def __init__(self, port: Optional[int] = None, binary: Optional[str] = None) -> None:
        found = binary or shutil.which("redis-server")
        if found is None:
            raise RuntimeError("redis-server is not installed (scripts/test.sh installs it)")
        self.binary = found
        self.dir = tempfile.mkdtemp(prefix="tca-redis-")
        self.log = os.path.join(self.dir, "redis.log")
        self.process: Optional["subprocess.Popen[bytes]"] = None
        self.port = port or 0
        for _ in range(3):  # a free port may be taken between finding it and binding it
            self.port = port or free_port()
            if self._start():
                return
        raise RuntimeError(f"redis-server did not start; its log: {self.log}")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start again (on the same port) after :meth:`stop`."""
        if not self._start():
            raise RuntimeError(f"redis-server did not restart on port {self.port}; its log: {self.log}")

    def _start(self) -> bool:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", self.dir],
                stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                return False
            try:
                r = Resp(self.url)
                try:
                    if r.command("PING") == b"PONG":
                        return True
                finally:
                    r.close()
            except (OSError, RuntimeError):
                time.sleep(0.02)
        self.stop()
        return False

    def version(self) -> str:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True).stdout
        return out.split(" v=")[1].split()[0] if " v=" in out else out.strip()

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Resp:
    """Just enough of the Redis protocol to look at (and clean up) what the library stored."""

    def __init__(self, url: str) -> None:
        u = urllib.parse.urlsplit(url)
        if u.scheme != "redis":
            raise ValueError(f"only redis:// URLs are handled here, not {u.scheme}://")
        self.sock = socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379), timeout=5)
        self.file = self.sock.makefile("rb")
        if u.password is not None:
            user = urllib.parse.unquote(u.username) if u.username else None
            self.command("AUTH", *([user] if user else []), urllib.parse.unquote(u.password))
        db = u.path.strip("/")
        if db and db != "0":
            self.command("SELECT", db)

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def command(self, *args: Union[str, bytes, int]) -> Reply:
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.sock.sendall(b"".join(out))
        return self._read()

    def _read(self) -> Reply:
        line = self.file.readline()
        kind, body = line[:1], line[1:-2]
        if kind == b"+":
            return body
        if kind == b"-":
            raise RuntimeError(body.decode(errors="replace"))
        if kind == b":":
            return int(body)
        if kind == b"$":
            n = int(body)
            return None if n < 0 else self.file.read(n + 2)[:-2]
        if kind == b"*":
            n = int(body)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RuntimeError(f"unexpected Redis reply {line[:40]!r}")


def shared_url() -> Optional[str]:
    """The Redis that scripts/test.sh started, if any."""
    return os.environ.get("TCA_TEST_REDIS_URL") or None
