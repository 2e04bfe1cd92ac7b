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
from typing import List, Optional, Union

Reply = Union[None, int, bytes, List["Reply"]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RedisServer:
    """A redis-server process on 127.0.0.1 that this test run owns."""

    def __init__(self, port: Optional[int] = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (scripts/test.sh installs it)")
        self.binary = binary
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="tca-redis-")
        self.process: Optional["subprocess.Popen[bytes]"] = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if Resp(self.url).command("PING") == b"PONG":
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Resp:
    """Just enough of the Redis protocol to look at what the library stored."""

    def __init__(self, url: str) -> None:
        rest = url.split("://", 1)[1]
        hostport, _, db = rest.partition("/")
        host, _, port = hostport.rpartition(":")
        self.sock = socket.create_connection((host or "127.0.0.1", int(port)), timeout=5)
        self.file = self.sock.makefile("rb")
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
            raise RuntimeError(body.decode())
        if kind == b":":
            return int(body)
        if kind == b"$":
            n = int(body)
            if n < 0:
                return None
            data = self.file.read(n + 2)[:-2]
            return data
        if kind == b"*":
            n = int(body)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RuntimeError(f"unexpected Redis reply {line!r}")


def shared_url() -> Optional[str]:
    """The Redis that scripts/test.sh started, if any."""
    return os.environ.get("TCA_TEST_REDIS_URL") or None
