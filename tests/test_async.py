"""AsyncClient: the same sessions for asyncio, cancellation-safe."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import List

import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau


def aclient(fake: FakeTableau, **kw: object) -> tca.AsyncClient:
    creds = fake.connected_app.credentials(fake.username, scopes=["tableau:content:read"])
    return tca.AsyncClient(fake.url, site=fake.site, credentials=creds, **kw)


def test_ten_thousand_tasks_make_one_sign_in(fake: FakeTableau) -> None:
    fake.set_delay(0.05, route="auth/signin")
    client = aclient(fake)

    async def main() -> List[str]:
        sessions = await asyncio.gather(*(client.session() for _ in range(10_000)))
        return [s.token for s in sessions]

    tokens = asyncio.run(main())
    assert len(tokens) == 10_000 and len(set(tokens)) == 1
    assert fake.stats()["sign_in_attempts"] == 1


def test_sync_and_async_clients_share_one_session(fake: FakeTableau) -> None:
    sync = fake.client()
    token = sync.session().token
    assert asyncio.run(aclient(fake).session()).token == token
    assert fake.stats()["sign_ins"] == 1

    with FakeTableau() as other:
        a = aclient(other)
        first = asyncio.run(a.session())
        assert other.client().session().token == first.token
        assert other.stats()["sign_ins"] == 1


def test_cancelling_a_waiting_task_leaves_the_sign_in_running(fake: FakeTableau) -> None:
    fake.set_delay(0.5, route="auth/signin")
    client = aclient(fake)

    async def main() -> str:
        task = asyncio.ensure_future(client.session())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        s = await client.session()  # joins the sign-in that is still in flight
        return s.token

    assert asyncio.run(main())
    assert fake.stats()["sign_in_attempts"] == 1 and fake.stats()["sign_ins"] == 1


def test_wait_for_timeout_then_success(fake: FakeTableau) -> None:
    fake.set_delay(0.5, route="auth/signin")
    client = aclient(fake)

    async def main() -> str:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.session(), timeout=0.1)
        return (await asyncio.wait_for(client.session(), timeout=10)).token

    assert asyncio.run(main())
    assert fake.stats()["sign_ins"] == 1


def test_request_reauthenticates_after_server_side_expiry(fake: FakeTableau) -> None:
    client = aclient(fake)

    async def main() -> int:
        await client.session()
        fake.expire_all_sessions()
        r = await client.get("workbooks")
        return r.status

    assert asyncio.run(main()) == 200
    assert fake.stats()["sign_ins"] == 2


def test_two_event_loops_in_two_threads_share_one_sign_in(fake: FakeTableau) -> None:
    fake.set_delay(0.2, route="auth/signin")
    client = aclient(fake)
    tokens: List[str] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        tokens.append(asyncio.run(client.session()).token)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(tokens) == 2 and tokens[0] == tokens[1]
    assert fake.stats()["sign_in_attempts"] == 1


def test_errors_are_the_same_typed_exceptions(fake: FakeTableau) -> None:
    creds = fake.connected_app.credentials(fake.username, scopes=["tableau:content:read"])
    client = tca.AsyncClient(fake.url, site="nope", credentials=creds)
    with pytest.raises(tca.SignInError) as info:
        asyncio.run(client.session())
    assert info.value.code == "401001" and "contentUrl" in str(info.value)
    with pytest.raises(tca.ConfigurationError):
        tca.AsyncClient(fake.url, site="x", credentials=creds, timeout=-1)


def test_log_records_of_an_awaited_call_are_in_logging_when_it_returns(
    fake: FakeTableau, caplog: pytest.LogCaptureFixture
) -> None:
    # They are emitted by the event loop's thread (src/aio.rs), before the awaiting task resumes.
    caplog.set_level(logging.INFO, logger="tableau_connected_auth")
    client = aclient(fake)

    async def main() -> List[str]:
        await client.sign_in()
        return [r.getMessage() for r in caplog.records]

    seen = asyncio.run(main())
    assert any("signed in" in m for m in seen)
    assert all(r.name.startswith("tableau_connected_auth.core.") for r in caplog.records)


def test_a_loop_without_add_reader_still_works(fake: FakeTableau) -> None:
    # Windows' proactor loop has no add_reader: its futures are completed through
    # pyo3-async-runtimes' bridge instead of the loop's inbox (src/aio.rs).
    class NoReader(asyncio.SelectorEventLoop):
        def add_reader(self, *args: object, **kwargs: object) -> None:
            raise NotImplementedError

    good = aclient(fake)
    creds = fake.connected_app.credentials(fake.username, scopes=["tableau:content:read"])
    bad = tca.AsyncClient(fake.url, site="nope", credentials=creds)

    async def main() -> str:
        session = await good.sign_in()
        with pytest.raises(tca.SignInError) as info:
            await bad.sign_in()
        assert info.value.code == "401001"
        return session.site_content_url

    loop = NoReader()
    try:
        assert loop.run_until_complete(main()) == fake.site
    finally:
        loop.close()


def test_async_with_signs_out_and_sign_in_is_fresh(fake: FakeTableau) -> None:
    async def main() -> str:
        async with aclient(fake) as client:
            first = await client.session()
            fresh = await client.sign_in()
            assert fresh.token != first.token
            assert (await client.session()).token == fresh.token
            assert client.invalidate(fresh)
            return (await client.session()).token

    token = asyncio.run(main())
    assert not fake.is_session_alive(token)
    assert fake.stats()["sign_ins"] == 3 and fake.stats()["sign_outs"] == 1


def test_a_forked_child_uses_the_async_path(fake: FakeTableau) -> None:
    client = aclient(fake)
    parent = asyncio.run(client.session()).token
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read)

            async def child() -> str:
                cached = (await client.session()).token == parent
                fresh = (await client.sign_in()).token != parent
                status = (await client.get("workbooks")).status
                return f"{cached} {fresh} {status}"

            os.write(write, asyncio.run(child()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    answer = os.read(read, 100).decode()
    os.close(read)
    assert os.WEXITSTATUS(status) == 0 and answer == "True True 200"
    assert asyncio.run(client.get("workbooks")).status == 200  # the parent runtime still works


EXIT_RIGHT_AFTER = """
import asyncio, sys
import tableau_connected_auth as tca

async def main():
    app = tca.ConnectedApp(client_id=sys.argv[2], secret_id=sys.argv[3], secret_value=sys.argv[4])
    creds = app.credentials(sys.argv[5], scopes=["tableau:content:read"])
    client = tca.AsyncClient(sys.argv[1], site="mysite", credentials=creds)
    await asyncio.gather(*(client.session() for _ in range(20)))
    assert (await client.get("workbooks")).status_code == 200

asyncio.run(main())
"""


def test_processes_that_exit_right_after_asyncio_run_never_crash(fake: FakeTableau) -> None:
    # The thread that completes the last future may still be on its way out of Python when
    # the interpreter finalizes: an atexit hook waits for it (src/exit.rs). Without it,
    # about one process in twenty died of SIGSEGV, SIGBUS or SIGABRT here.
    import subprocess
    import sys

    argv = [sys.executable, "-c", EXIT_RIGHT_AFTER, fake.url, fake.app_client_id, fake.app_secret_id,
            fake.app_secret_value, fake.username]
    codes: List[int] = []
    for _ in range(10):
        batch = [subprocess.Popen(argv, stderr=subprocess.PIPE) for _ in range(6)]
        for p in batch:
            _, err = p.communicate(timeout=60)
            codes.append(p.returncode)
            assert p.returncode == 0, err.decode(errors="replace")[-2000:]
    assert codes == [0] * 60


def test_twins_share_one_core_client_even_with_no_cache(fake: FakeTableau) -> None:
    """AsyncClient(client) and Client(aclient) are twins: with cache=None (each client its own
    sessions) they still share one session, and closing one closes the other."""
    client = fake.client(cache=None)
    twin = tca.AsyncClient(client)
    assert isinstance(twin.client, tca.Client) and repr(twin).startswith("AsyncClient(")
    token = client.session().token

    async def main() -> str:
        response = await twin.request("GET", "/api/3.24/serverinfo")
        assert response.status == 200
        return (await twin.sign_in()).token

    fresh = asyncio.run(main())
    assert fresh != token
    assert tca.Client(twin).get("/api/3.24/serverinfo").status == 200
    with pytest.raises(TypeError, match="takes no other arguments"):
        tca.Client(twin, site="x")  # type: ignore[call-overload]
    client.close()
    with pytest.raises(tca.ConfigurationError, match="closed"):
        asyncio.run(twin.sign_in())


def test_async_methods_are_coroutines(fake: FakeTableau) -> None:
    """What asyncio.run and create_task accept, made before any loop runs, cancellable."""
    client = aclient(fake)
    for made in (client.sign_in(), client.session()):
        assert asyncio.iscoroutine(made)
        made.close()  # never started: nothing was sent
    assert fake.stats()["sign_in_attempts"] == 0

    async def main() -> None:
        fake.set_delay(5.0, route="serverinfo")
        task = asyncio.create_task(client.get("/api/3.24/serverinfo"))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        fake.set_delay(0.0, route="serverinfo")
        assert (await asyncio.create_task(client.session())).token

    asyncio.run(main())
