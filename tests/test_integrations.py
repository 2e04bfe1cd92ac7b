"""Where our users work: configuration from the environment, requests and httpx auth, TSC, the
pytest plugin, and the README and examples that show them."""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau
from tableau_env import fake_env

ROOT = Path(__file__).resolve().parent.parent
SWITCH_SITE_BODY = b'<tsRequest><site contentUrl="mysite"/></tsRequest>'


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A clean slate: no TABLEAU_* variable from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("TABLEAU_"):
            monkeypatch.delenv(name)
    yield monkeypatch




# --- Client.from_env / AsyncClient.from_env -----------------------------------------------------

APP = {
    "TABLEAU_CLIENT_ID": "cid",
    "TABLEAU_SECRET_ID": "sid",
    "TABLEAU_SECRET_VALUE": "s3cret-value",
    "TABLEAU_USERNAME": "me@example.com",
    "TABLEAU_SCOPES": "tableau:content:read",
}
PAT = {"TABLEAU_PAT_NAME": "my-pat", "TABLEAU_PAT_SECRET": "pat-s3cret"}
WHERE = {"TABLEAU_SERVER": "https://tableau.example.com", "TABLEAU_SITE": "mysite"}


def _without(d: Dict[str, str], *names: str) -> Dict[str, str]:
    return {k: v for k, v in d.items() if k not in names}


# (variables, the names the one error must list as missing, as conflicting); None = no error
FROM_ENV_CASES = [
    pytest.param({**WHERE, **APP}, None, None, id="connected app"),
    pytest.param({**WHERE, **PAT}, None, None, id="personal access token"),
    pytest.param({**WHERE, **APP, "TABLEAU_SITE": ""}, None, None, id="default site"),
    pytest.param({}, ["TABLEAU_SERVER", "TABLEAU_SITE", "a sign-in method"], [], id="nothing"),
    pytest.param({**WHERE}, ["a sign-in method"], [], id="no credentials"),
    pytest.param(_without({**WHERE, **APP}, "TABLEAU_SERVER"), ["TABLEAU_SERVER"], [], id="no server"),
    pytest.param(_without({**WHERE, **APP}, "TABLEAU_SITE"), ["TABLEAU_SITE"], [], id="no site"),
    pytest.param(
        _without({**WHERE, **APP}, "TABLEAU_SECRET_VALUE", "TABLEAU_SCOPES"),
        ["TABLEAU_SECRET_VALUE", "TABLEAU_SCOPES"],
        [],
        id="app without secret value and scopes",
    ),
    pytest.param({**WHERE, **APP, "TABLEAU_SCOPES": " , "}, ["TABLEAU_SCOPES"], [], id="empty scopes"),
    pytest.param({**WHERE, **APP, "TABLEAU_USERNAME": "  "}, ["TABLEAU_USERNAME"], [], id="blank username"),
    pytest.param(
        {**WHERE, "TABLEAU_USERNAME": "me", "TABLEAU_SCOPES": "a"},
        ["TABLEAU_CLIENT_ID", "TABLEAU_SECRET_ID", "TABLEAU_SECRET_VALUE"],
        [],
        id="only username and scopes",
    ),
    pytest.param(
        _without({**WHERE, **PAT}, "TABLEAU_PAT_SECRET", "TABLEAU_SITE"),
        ["TABLEAU_SITE", "TABLEAU_PAT_SECRET"],
        [],
        id="pat without secret, no site",
    ),
    pytest.param(
        {**WHERE, **APP, **PAT},
        [],
        ["TABLEAU_CLIENT_ID", "TABLEAU_SECRET_ID", "TABLEAU_SECRET_VALUE", "TABLEAU_PAT_NAME", "TABLEAU_PAT_SECRET"],
        id="app and pat",
    ),
    pytest.param(
        {**WHERE, "TABLEAU_CLIENT_ID": "c", "TABLEAU_PAT_NAME": "p"},
        [],
        ["TABLEAU_CLIENT_ID", "TABLEAU_PAT_NAME"],
        id="half of each",
    ),
    pytest.param(
        {**WHERE, **PAT, "TABLEAU_USERNAME": "me", "TABLEAU_SCOPES": "a"},
        [],
        ["TABLEAU_USERNAME", "TABLEAU_SCOPES", "TABLEAU_PAT_NAME"],
        id="pat with username and scopes",
    ),
]


@pytest.mark.parametrize("variables, missing, conflicting", FROM_ENV_CASES)
def test_from_env_sets(
    env: pytest.MonkeyPatch,
    variables: Dict[str, str],
    missing: Optional[List[str]],
    conflicting: Optional[List[str]],
) -> None:
    for name, value in variables.items():
        env.setenv(name, value)
    if missing is None:
        client = tca.Client.from_env()
        assert client.server == "https://tableau.example.com"
        assert client.site == variables["TABLEAU_SITE"]
        assert tca.AsyncClient.from_env().server == client.server
        return
    with pytest.raises(tca.ConfigurationError) as info:
        tca.Client.from_env()
    message = str(info.value)
    missing_line = next((line for line in message.splitlines() if "missing:" in line), "")
    conflict_line = " ".join(line for line in message.splitlines() if "conflicting:" in line)
    for name in missing:
        assert name in missing_line, message
    for name in conflicting or []:
        assert name in conflict_line, message
    assert bool(missing_line) == bool(missing) and bool(conflict_line) == bool(conflicting), message
    # Only what is missing: nothing set to a usable value is reported missing.
    for name in variables:
        if name not in missing:
            assert name not in missing_line, message
    for secret in ("s3cret-value", "pat-s3cret"):
        assert secret not in message
    with pytest.raises(tca.ConfigurationError):  # the async twin reads the same
        tca.AsyncClient.from_env()


def test_from_env_signs_in_and_overrides_win(env: pytest.MonkeyPatch, fake: FakeTableau) -> None:
    for name, value in fake_env(fake).items():
        env.setenv(name, value)
    env.setenv("TABLEAU_SCOPES", "tableau:content:read, tableau:views:embed  tableau:users:read")
    client = tca.Client.from_env(timeout=10.0)
    assert client.session().site_content_url == "mysite"
    assert '"tableau:views:embed"' in repr(client) and '"tableau:users:read"' in repr(client)

    env.setenv("TABLEAU_SERVER", "http://127.0.0.1:9")  # nothing listens there
    env.setenv("TABLEAU_SITE", "elsewhere")
    client = tca.Client.from_env(server=fake.url, site="mysite", scopes=["tableau:content:read"], api_version="auto")
    assert client.server == fake.url and client.site == "mysite"
    assert client.session().api_version == "3.28"  # asked serverinfo
    assert tca.Client.from_env(server=fake.url, site=None).site == "elsewhere"  # None = not given


def test_from_env_with_a_pat_and_overrides_that_pick_the_method(env: pytest.MonkeyPatch, fake: FakeTableau) -> None:
    for name, value in fake_env(fake).items():
        env.setenv(name, value)
    # The environment holds a connected app; keyword overrides pick the PAT instead.
    client = tca.Client.from_env(pat_name=fake.pat_name, pat_secret=fake.pat_secret)
    assert client.session().user_id
    assert fake.stats()["sign_ins"] == 1
    with pytest.raises(tca.ConfigurationError, match="choose one sign-in method"):
        tca.Client.from_env(pat_name="p", client_id="c")
    creds = fake.connected_app.credentials(fake.username, scopes=["tableau:content:read"])
    assert tca.Client.from_env(credentials=creds).session()
    with pytest.raises(tca.ConfigurationError, match="credentials= with pat_name="):
        tca.Client.from_env(credentials=creds, pat_name="p")
    env.setenv("TABLEAU_API_VERSION", "latest")
    with pytest.raises(tca.ConfigurationError, match="api_version"):  # the Client checks it
        tca.Client.from_env()


# --- requests ---------------------------------------------------------------------------------


def test_requests_auth_signs_and_recovers_from_one_401(fake: FakeTableau) -> None:
    import requests
    from requests.auth import AuthBase

    client = fake.client()
    auth = client.requests_auth()
    assert isinstance(auth, AuthBase)
    http = requests.Session()
    http.auth = auth
    url = client.session().url("workbooks")

    r = http.get(url, timeout=10)
    assert r.status_code == 200 and r.history == []
    assert r.request.headers["X-Tableau-Auth"] == client.session().token

    dead = client.session().token
    fake.expire_all_sessions()
    r = http.get(url, timeout=10)
    assert r.status_code == 200
    assert [h.status_code for h in r.history] == [401]
    assert r.request.headers["X-Tableau-Auth"] == client.session().token != dead
    assert fake.stats()["sign_ins"] == 2

    # A fresh session that is dead as well: one retry only. On a connected-app session
    # Tableau's 401002 cannot tell that from a missing scope, and it is reported as one
    # (tests/test_scopes.py); a PAT session's 401 is the answer (test_sessions.py).
    fake.set_session_ttl(0)
    fake.expire_all_sessions()
    with pytest.raises(tca.MissingScopeError):
        http.get(url, timeout=10)
    assert fake.stats()["sign_ins"] == 3


def test_requests_auth_replays_the_body_once(fake: FakeTableau) -> None:
    import requests

    client = fake.client()
    http = requests.Session()
    http.auth = client.requests_auth()
    url = f"{fake.url}/api/{client.api_version}/auth/switchSite"
    for body in (SWITCH_SITE_BODY, io.BytesIO(SWITCH_SITE_BODY)):
        client.session()
        fake.expire_all_sessions()
        r = http.post(url, data=body, timeout=10)
        # Tableau read the body again: "already signed in to site 'mysite'", not a 400.
        assert (r.status_code, len(r.history)) == (403, 1), r.text
        assert "403070" in r.text
    before = fake.stats()["sign_ins"]
    fake.expire_all_sessions()
    r = http.post(url, data=iter([SWITCH_SITE_BODY]), timeout=10)  # a generator cannot be sent twice
    assert r.status_code == 401 and r.history == []
    assert fake.stats()["sign_ins"] == before
    assert http.post(url, data=SWITCH_SITE_BODY, timeout=10).status_code == 403  # dropped: signs in anew


def test_requests_auth_keeps_the_token_on_its_own_server(fake: FakeTableau) -> None:
    import requests

    client = fake.client()
    http = requests.Session()
    http.auth = client.requests_auth()
    with FakeTableau() as other:
        r = http.get(f"{other.url}/api/3.24/sessions/current", timeout=10)
        assert "X-Tableau-Auth" not in r.request.headers
        assert r.status_code == 401 and r.history == []  # not ours to retry
    assert fake.stats()["sign_ins"] == 0  # nor a reason to sign in


@pytest.mark.skipif(not hasattr(FakeTableau, "redirect_next"), reason="this FakeTableau cannot redirect")
def test_requests_auth_drops_the_token_on_a_redirect_elsewhere(fake: FakeTableau) -> None:
    import requests

    client = fake.client()
    http = requests.Session()
    http.auth = client.requests_auth()
    with FakeTableau() as other:
        elsewhere = f"{other.url}/api/3.24/sessions/current"
        getattr(fake, "redirect_next")(elsewhere, status=307, route="sessions/current")
        r = http.get(f"{fake.url}/api/3.24/sessions/current", timeout=10)
        assert [h.status_code for h in r.history] == [307] and r.url == elsewhere
        assert "X-Tableau-Auth" not in r.request.headers
        assert r.status_code == 401  # the other server saw no token
        assert other.stats()["sessions_current"] == 1
        # A redirect within our server keeps it.
        getattr(fake, "redirect_next")(f"{fake.url}/api/3.24/sessions/current", status=307, route="sessions/current")
        r = http.get(f"{fake.url}/api/3.24/sessions/current", timeout=10)
        assert r.status_code == 200 and len(r.history) == 1


def test_a_burst_of_401s_causes_one_re_sign_in(fake: FakeTableau) -> None:
    import requests

    client = fake.client()
    url = client.session().url("workbooks")
    fake.expire_all_sessions()
    barrier = threading.Barrier(16)
    statuses: List[int] = []

    def call() -> None:
        http = requests.Session()
        http.auth = client.requests_auth()
        barrier.wait()
        statuses.append(http.get(url, timeout=30).status_code)

    threads = [threading.Thread(target=call) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 16
    assert fake.stats()["sign_ins"] == 2


# --- httpx ------------------------------------------------------------------------------------


def test_httpx_auth_sync(fake: FakeTableau) -> None:
    import httpx

    client = fake.client()
    auth = client.httpx_auth()
    assert isinstance(auth, httpx.Auth)
    url = client.session().url("workbooks")
    with httpx.Client(auth=auth, timeout=10) as http:
        r = http.get(url)
        assert r.status_code == 200 and r.history == []
        fake.expire_all_sessions()
        r = http.get(url)
        assert r.status_code == 200 and [h.status_code for h in r.history] == [401]
        assert r.request.headers["X-Tableau-Auth"] == client.session().token
        fake.expire_all_sessions()
        r = http.post(f"{fake.url}/api/{client.api_version}/auth/switchSite", content=SWITCH_SITE_BODY)
        assert (r.status_code, len(r.history)) == (403, 1), r.text  # the body went twice
        with FakeTableau() as other:
            r = http.get(f"{other.url}/api/3.24/sessions/current")
            assert "X-Tableau-Auth" not in r.request.headers and r.status_code == 401
        fake.set_session_ttl(0)
        fake.expire_all_sessions()
        with pytest.raises(tca.MissingScopeError):  # one retry, with a session dead at birth
            http.get(url)
    assert fake.stats()["sign_ins"] == 4


def test_httpx_auth_async_with_an_async_client(fake: FakeTableau) -> None:
    import httpx

    aclient = tca.AsyncClient(
        fake.url, site=fake.site, credentials=fake.connected_app.credentials(fake.username, scopes=["tableau:content:read"])
    )

    async def main() -> List[int]:
        url = (await aclient.session()).url("workbooks")
        async with httpx.AsyncClient(auth=aclient.httpx_auth(), timeout=10) as http:
            first = await http.get(url)
            fake.expire_all_sessions()
            burst = await asyncio.gather(*(http.get(url) for _ in range(10)))
            return [first.status_code] + [r.status_code for r in burst]

    assert asyncio.run(main()) == [200] * 11
    assert fake.stats()["sign_ins"] == 2


def test_httpx_auth_async_with_a_blocking_client(fake: FakeTableau) -> None:
    import httpx

    client = fake.client()

    async def main() -> int:
        async with httpx.AsyncClient(auth=client.httpx_auth(), timeout=10) as http:
            url = client.session().url("workbooks")
            fake.expire_all_sessions()
            r = await http.get(url)
            return r.status_code

    assert asyncio.run(main()) == 200
    assert fake.stats()["sign_ins"] == 2


def test_auth_classes_load_requests_and_httpx_only_when_used() -> None:
    code = (
        "import sys, tableau_connected_auth as tca, tableau_connected_auth.auth as auth\n"
        "assert 'requests' not in sys.modules and 'httpx' not in sys.modules\n"
        "auth.RequestsAuth\n"
        "assert 'requests' in sys.modules and 'httpx' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --- tableauserverclient ----------------------------------------------------------------------


def test_tsc_server_lists_workbooks_with_one_sign_in(fake: FakeTableau) -> None:
    import tableauserverclient as TSC

    from tableau_connected_auth import tsc

    client = fake.client(api_version="auto")
    server = tsc.server(client)
    assert isinstance(server, TSC.Server)
    session = client.session()
    assert server.is_signed_in()
    assert (server.site_id, server.user_id, server.auth_token) == (session.site_id, session.user_id, session.token)
    assert server.version == session.api_version == "3.28"
    assert server.site_url == "mysite"

    workbooks, pagination = server.workbooks.get()
    assert [w.name for w in workbooks] == ["Superstore", "Regional Sales", 'Q&A <Draft> "v2"']
    assert pagination.total_available == 3
    assert all(w.project_name == "Default" for w in workbooks)
    assert len(list(TSC.Pager(server.workbooks))) == 3
    stats = fake.stats()
    assert stats["sign_ins"] == 1 and stats["sign_in_attempts"] == 1
    assert stats["workbooks"] == 2

    # The session dies: TSC's next call gets a 401, and the request is sent again, signed anew.
    fake.expire_all_sessions()
    workbooks, _ = server.workbooks.get()
    assert len(workbooks) == 3
    assert fake.stats()["sign_ins"] == 2
    client.sign_out()


def test_tsc_server_does_not_sign_in_when_the_client_has_a_session(fake: FakeTableau) -> None:
    from tableau_connected_auth import tsc

    client = fake.client()
    client.session()
    server = tsc.server(client, http_options={"timeout": 30})
    assert server.http_options["timeout"] == 30
    server.workbooks.get()
    assert fake.stats()["sign_ins"] == 1


# --- the pytest plugin ------------------------------------------------------------------------


def test_plugin_is_registered_and_import_light() -> None:
    from importlib.metadata import entry_points

    eps = entry_points()
    group = eps.select(group="pytest11") if hasattr(eps, "select") else eps.get("pytest11", [])  # type: ignore[attr-defined, unused-ignore]
    assert any(ep.value == "tableau_connected_auth.pytest_plugin" for ep in group)
    code = (
        "import sys, tableau_connected_auth.pytest_plugin\n"
        "heavy = [m for m in ('requests', 'httpx', 'tableauserverclient', 'airflow', 'tableau_connected_auth.testing')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_plugin_fixtures_in_a_user_test_suite(tmp_path: Path) -> None:
    (tmp_path / "test_mine.py").write_text(
        "import pytest\n"
        "\n"
        "@pytest.fixture\n"
        "def after_the_client(fake_tableau):\n"
        "    yield\n"
        "    assert fake_tableau.stats()['sign_outs'] == 1  # tableau_client signed out first\n"
        "\n"
        "def test_client(after_the_client, tableau_client, fake_tableau):\n"
        "    assert fake_tableau.stats()['sign_ins'] == 1  # signed in already\n"
        "    assert tableau_client.get('workbooks').status == 200\n"
        "    assert fake_tableau.stats()['sign_ins'] == 1\n"
        "    assert tableau_client.server == fake_tableau.url\n"
        "\n"
        "def test_fresh_fake_each_time(fake_tableau):\n"
        "    assert fake_tableau.stats()['sign_ins'] == 0\n"
    )
    run = [sys.executable, "-m", "pytest", str(tmp_path), "-q", "-p", "no:cacheprovider"]
    out = subprocess.run(run, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 passed" in out.stdout and "error" not in out.stdout
    disabled = subprocess.run(
        run + ["-p", "no:tableau_connected_auth"], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert disabled.returncode == 1 and "fixture 'fake_tableau' not found" in disabled.stdout


# --- README and examples ----------------------------------------------------------------------


def _readme_blocks_from_examples() -> List[tuple[str, str]]:
    pattern = re.compile(r"<!-- from (examples/\S+) -->\s*```[a-z]*\n(.*?)```", re.S)
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        found += pattern.findall(page.read_text(encoding="utf-8"))
    return found


def test_readme_code_is_the_code_ci_runs() -> None:
    """Each block of the README or docs/ marked `<!-- from examples/x -->` is a run of lines of
    that example (indentation aside), so the documentation shows code that CI runs (also when
    tests/test_docs.py cannot run it, as with Airflow's). A first line saying why the block is
    not run (``# Not run: ...``) is not part of the example."""
    blocks = _readme_blocks_from_examples()
    assert {p for p, _ in blocks} >= {"examples/airflow_dag.py"}
    for path, block in blocks:
        shown = [line.strip() for line in block.strip("\n").splitlines()]
        if shown and shown[0].startswith(("# Not run:", "# Needs a real")):
            shown = shown[1:]
        source = [line.strip() for line in (ROOT / path).read_text(encoding="utf-8").splitlines()]
        starts = [i for i, line in enumerate(source) if line == shown[0]]
        assert any(source[i : i + len(shown)] == shown for i in starts), f"README block differs from {path}:\n{block}"


def test_every_example_is_typed_and_documented() -> None:
    for path in sorted((ROOT / "examples").iterdir()):
        if path.suffix == ".py":
            text = path.read_text(encoding="utf-8")
            assert '\n"""' in "\n" + text.split("from __future__")[0], f"{path.name} needs a docstring"
            assert "from __future__ import annotations" in text, path.name


# --- nothing secret in logs or reprs ----------------------------------------------------------


def test_integrations_log_no_secret(fake: FakeTableau, env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import httpx
    import requests

    from tableau_connected_auth import tsc

    caplog.set_level("DEBUG")  # every logger: ours, urllib3, httpx, tableauserverclient
    secrets = [fake.app_secret_value, fake.pat_secret]
    texts: List[str] = []
    client = fake.client()
    tokens = [client.session().token]
    http = requests.Session()
    http.auth = client.requests_auth()
    fake.expire_all_sessions()
    http.get(client.session().url("workbooks"), timeout=10)
    tokens.append(client.session().token)
    with httpx.Client(auth=client.httpx_auth()) as hx:
        fake.expire_all_sessions()
        hx.get(client.session().url("workbooks"))
        tokens.append(client.session().token)
    server = tsc.server(client)
    fake.expire_all_sessions()
    server.workbooks.get()
    tokens.append(client.session().token)
    texts += [repr(http.auth), repr(client.httpx_auth())]
    env.setenv("TABLEAU_SECRET_VALUE", fake.app_secret_value)
    with pytest.raises(tca.ConfigurationError) as info:
        tca.Client.from_env()
    texts.append(str(info.value))
    texts += [r.getMessage() for r in caplog.records]
    assert len(caplog.records) > 10
    for text in texts:
        for secret in secrets + tokens:
            assert secret not in text, text
            assert secret.split("|")[0] not in text, text


# --- one dead-session rule for every path -----------------------------------------------------


def test_every_adapter_retries_only_a_401_that_says_the_session_is_dead(fake: FakeTableau) -> None:
    """401000/401002 (or a 401 without a Tableau error) mean a dead session: one re-sign-in and
    one retry. Any other 401 is the answer, with no sign-in: the same rule for request(), the
    requests adapter and both httpx flows (it is the core's, asked through judge_answer)."""
    import asyncio

    import httpx
    import requests

    pat = tca.Client(fake.url, site=fake.site, credentials=tca.PersonalAccessToken(fake.pat_name, fake.pat_secret))

    def judged(status: int, body: bytes) -> bool:
        return tca._core.judge_answer(pat, "some-token", "GET", f"{fake.url}/api/3.24/sites/x/workbooks", status, body)

    assert judged(401, b"") is True
    assert judged(401, b'<tsResponse xmlns="http://tableau.com/api"><error code="401002"/></tsResponse>')
    assert not judged(401, b'<tsResponse xmlns="http://tableau.com/api"><error code="401001"/></tsResponse>')
    assert not judged(403, b"")

    client = fake.client()
    url = client.session().url("workbooks")
    http = requests.Session()
    http.auth = client.requests_auth()
    aclient = tca.AsyncClient(client)

    async def via_httpx_async() -> int:
        async with httpx.AsyncClient(auth=aclient.httpx_auth(), timeout=10) as h:
            return (await h.get(url)).status_code

    def via_httpx_sync() -> int:
        with httpx.Client(auth=client.httpx_auth(), timeout=10) as h:
            return h.get(url).status_code

    calls = {
        "request()": lambda: client.get("workbooks").status,
        "requests": lambda: http.get(url, timeout=10).status_code,
        "httpx": via_httpx_sync,
        "httpx async": lambda: asyncio.run(via_httpx_async()),
    }
    for name, call in calls.items():
        signed_in = fake.stats()["sign_ins"]
        fake.fail_next(401, code="401001", route="workbooks")
        assert call() == 401, name
        assert fake.stats()["sign_ins"] == signed_in, f"{name} signed in again for a 401001"
        fake.fail_next(401, code="401002", route="workbooks")
        assert call() == 200, name
        assert fake.stats()["sign_ins"] == signed_in + 1, f"{name} did not sign in again for a 401002"
