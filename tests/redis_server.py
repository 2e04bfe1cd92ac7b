"""A real ``redis-server`` for the tests, and a minimal RESP client to inspect it; also a real
Redis Cluster (:class:`RedisCluster`) and a Sentinel-monitored primary (:class:`RedisSentinel`),
all on 127.0.0.1.

``.ci/run`` (scripts/test.sh) installs redis-server and redis-cli and starts one server on
127.0.0.1, exporting its URL as ``TCA_TEST_REDIS_URL``; without it the tests start their own
from ``PATH``. Tests that stop Redis mid-run always start a private one, so the shared server
stays up for the others. The cluster and the Sentinel group are always the tests' own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
from typing import Any, Callable, List, Optional, Sequence, Union

Reply = Union[None, int, bytes, List[Any]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RedisServer:
    """A redis-server process on 127.0.0.1 that this run owns (its log in ``self.dir``)."""

    def __init__(
        self,
        port: Optional[int] = None,
        binary: Optional[str] = None,
        *,
        args: Sequence[str] = (),
        config: Optional[Callable[[int], str]] = None,
        cluster: bool = False,
        sentinel: bool = False,
    ) -> None:
        """``args``: more command-line options; ``config(port)``: the text of a config file to
        start from (sentinels keep their state in it); ``cluster``: a cluster node (its bus on a
        port of its own); ``sentinel``: ``--sentinel`` mode."""
        found = binary or shutil.which("redis-server")
        if found is None:
            raise RuntimeError("redis-server is not installed (scripts/test.sh installs it)")
        self.binary = found
        self.dir = tempfile.mkdtemp(prefix="tca-redis-")
        self.log = os.path.join(self.dir, "redis.log")
        self.process: Optional["subprocess.Popen[bytes]"] = None
        self.args = list(args)
        self.config = config
        self.cluster = cluster
        self.sentinel = sentinel
        self.bus_port = 0
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

    def _command(self) -> List[str]:
        command = [self.binary]
        if self.config is not None:
            path = os.path.join(self.dir, "redis.conf")
            if not os.path.exists(path):  # a restarted sentinel keeps what it learned
                with open(path, "w") as f:
                    f.write(self.config(self.port))
            command.append(path)
        command += ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", self.dir]
        if self.cluster:
            if not self.bus_port:
                self.bus_port = free_port()
            command += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", "3000", "--cluster-port", str(self.bus_port)]
        if self.sentinel:
            command.append("--sentinel")
        return command + self.args

    def _start(self) -> bool:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT)
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

    def resp(self) -> "Resp":
        return Resp(self.url)

    def command(self, *args: Union[str, bytes, int]) -> "Reply":
        """One command on a connection of its own."""
        r = self.resp()
        try:
            return r.command(*args)
        finally:
            r.close()

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


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except (OSError, RuntimeError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def info(server: RedisServer, section: str) -> dict[str, str]:
    text = server.command("INFO", section)
    assert isinstance(text, bytes)
    return dict(line.split(":", 1) for line in text.decode().splitlines() if ":" in line)


def redis_cli() -> str:
    found = shutil.which("redis-cli")
    if found is None:
        raise RuntimeError("redis-cli is not installed (scripts/test.sh installs redis-tools)")
    return found


class RedisCluster:
    """A Redis Cluster of ``size`` primaries (no replicas) on 127.0.0.1, joined with
    ``redis-cli --cluster create``."""

    def __init__(self, size: int = 3) -> None:
        cli = redis_cli()
        self.nodes: List[RedisServer] = []
        try:
            for _ in range(size):
                self.nodes.append(RedisServer(cluster=True))
            subprocess.run(
                [cli, "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in self.nodes),
                 "--cluster-replicas", "0", "--cluster-yes"],
                check=True, capture_output=True, timeout=60,
            )
            for n in self.nodes:
                wait_until(lambda: info_cluster(n)["cluster_state"] == "ok", "the cluster to be ok")
            # Every node knows every slot's owner.
            wait_until(lambda: all(len(self.slot_owners(n)) == 16384 for n in self.nodes),
                       "every node to know every slot")
        except BaseException:
            self.close()
            raise

    def url(self, seeds: int = 2, password: Optional[str] = None) -> str:
        auth = f":{password}@" if password else ""
        return "redis+cluster://" + auth + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes[:seeds])

    def node_id(self, node: RedisServer) -> str:
        reply = node.command("CLUSTER", "MYID")
        assert isinstance(reply, bytes)
        return reply.decode()

    def slot_owners(self, asked: RedisServer) -> dict[int, int]:
        """{slot: port of its owner} as ``asked`` sees it."""
        owners = {}
        reply = asked.command("CLUSTER", "SLOTS")
        assert isinstance(reply, list)
        for entry in reply:
            start, end, primary = entry[0], entry[1], entry[2]
            for slot in range(start, end + 1):
                owners[slot] = int(primary[1])
        return owners

    def keyslot(self, key: str) -> int:
        reply = self.nodes[0].command("CLUSTER", "KEYSLOT", key)
        assert isinstance(reply, int)
        return reply

    def owner(self, slot: int) -> RedisServer:
        port = self.slot_owners(self.nodes[0])[slot]
        return next(n for n in self.nodes if n.port == port)

    def keys(self, pattern: str) -> dict[str, RedisServer]:
        """Every key matching ``pattern``, with the node that holds it."""
        found = {}
        for n in self.nodes:
            reply = n.command("KEYS", pattern)
            assert isinstance(reply, list)
            for k in reply:
                assert isinstance(k, bytes)
                found[k.decode()] = n
        return found

    def get(self, key: str) -> Reply:
        return self.owner(self.keyslot(key)).command("GET", key)

    def move_slot(self, slot: int, to: RedisServer, between: Callable[[str], None] = lambda step: None) -> None:
        """Move ``slot`` to ``to`` the way ``redis-cli --cluster reshard`` does: mark it
        importing/migrating, MIGRATE its keys, then assign it. ``between(step)`` runs after each
        step (the test keeps its clients busy there)."""
        source = self.owner(slot)
        assert source is not to
        to.command("CLUSTER", "SETSLOT", slot, "IMPORTING", self.node_id(source))
        source.command("CLUSTER", "SETSLOT", slot, "MIGRATING", self.node_id(to))
        between("migrating")
        while True:
            keys = source.command("CLUSTER", "GETKEYSINSLOT", slot, 100)
            assert isinstance(keys, list)
            if not keys:
                break
            source.command("MIGRATE", "127.0.0.1", to.port, "", 0, 5000, "KEYS", *keys)
        between("migrated")
        for n in [to, source] + [n for n in self.nodes if n is not to and n is not source]:
            n.command("CLUSTER", "SETSLOT", slot, "NODE", self.node_id(to))
        wait_until(lambda: all(self.slot_owners(n)[slot] == to.port for n in self.nodes),
                   "every node to know the slot's new owner")
        between("moved")

    def close(self) -> None:
        for n in self.nodes:
            n.close()


def info_cluster(node: RedisServer) -> dict[str, str]:
    text = node.command("CLUSTER", "INFO")
    assert isinstance(text, bytes)
    return dict(line.split(":", 1) for line in text.decode().splitlines() if ":" in line)


class RedisSentinel:
    """A primary, one replica (``--replicaof``) and ``sentinels`` sentinels (quorum 1) that
    monitor them as ``master``, all on 127.0.0.1, with short down-after and failover timeouts."""

    def __init__(self, master: str = "mymaster", sentinels: int = 2) -> None:
        self.master = master
        self.servers: List[RedisServer] = []
        self.sentinels: List[RedisServer] = []
        try:
            quick_sync = ["--repl-diskless-sync-delay", "0"]  # a demoted primary resyncs at once
            first = RedisServer(args=quick_sync)
            self.servers.append(first)
            self.servers.append(RedisServer(args=[*quick_sync, "--replicaof", "127.0.0.1", str(first.port)]))
            wait_until(lambda: info(self.servers[1], "replication").get("master_link_status") == "up",
                       "the replica to be in sync")

            def config(port: int) -> str:
                return (f"sentinel monitor {master} 127.0.0.1 {first.port} 1\n"
                        f"sentinel down-after-milliseconds {master} 1000\n"
                        f"sentinel failover-timeout {master} 5000\n")

            for _ in range(sentinels):
                self.sentinels.append(RedisServer(config=config, sentinel=True))
            wait_until(self._replica_known, "the sentinels to know the replica", timeout=60)
        except BaseException:
            self.close()
            raise

    def url(self, password: Optional[str] = None, db: int = 0) -> str:
        auth = f":{password}@" if password else ""
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{auth}{hosts}/{self.master}/{db}"

    def _replica_known(self) -> bool:
        for s in self.sentinels:
            replicas = s.command("SENTINEL", "REPLICAS", self.master)
            assert isinstance(replicas, list)
            fields = [dict(zip(r[::2], r[1::2])) for r in replicas]
            if not any(b"s_down" not in f.get(b"flags", b"") and f.get(b"master-link-status") == b"ok"
                       for f in fields):
                return False
        return True

    def primary(self) -> RedisServer:
        """The server the sentinels name as primary."""
        reply = self.sentinels[0].command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.master)
        assert isinstance(reply, list)
        port = int(reply[1])
        return next(s for s in self.servers if s.port == port)

    def replica(self) -> RedisServer:
        primary = self.primary()
        return next(s for s in self.servers if s is not primary)

    def role(self, server: RedisServer) -> str:
        reply = server.command("ROLE")
        assert isinstance(reply, list) and isinstance(reply[0], bytes)
        return reply[0].decode()

    def failover(self) -> RedisServer:
        """``SENTINEL FAILOVER``; returns the new primary once every sentinel names it, it says
        it is a master, and the old one has become its replica."""
        old, new = self.primary(), self.replica()
        self.sentinels[0].command("SENTINEL", "FAILOVER", self.master)
        wait_until(lambda: all(self._named(s) == new.port for s in self.sentinels),
                   "the sentinels to name the new primary", timeout=60)
        wait_until(lambda: self.role(new) == "master", "the new primary to be a master")
        wait_until(lambda: self.role(old) == "slave"
                   and info(old, "replication").get("master_link_status") == "up",
                   "the old primary to replicate the new one", timeout=60)
        return new

    def _named(self, sentinel: RedisServer) -> int:
        reply = sentinel.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.master)
        assert isinstance(reply, list)
        return int(reply[1])

    def close(self) -> None:
        for s in self.sentinels + self.servers:
            s.close()


def shared_url() -> Optional[str]:
    """The Redis that scripts/test.sh started, if any."""
    return os.environ.get("TCA_TEST_REDIS_URL") or None
