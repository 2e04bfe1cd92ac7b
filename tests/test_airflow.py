"""TableauConnectedAppHook with a real apache-airflow (Connection objects, no scheduler).

scripts/test.sh runs this file in its own virtualenv (.venv-airflow), where apache-airflow and
the built wheel are installed; elsewhere it is skipped, and only when Airflow is absent.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Dict, List

import pytest

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))
pytest.importorskip("airflow", reason="apache-airflow is not installed (scripts/test.sh tests it in .venv-airflow)")

import tableau_connected_auth as tca  # noqa: E402
from tableau_connected_auth.airflow import (  # noqa: E402
    CONNECTION_TYPE,
    TableauConnectedAppHook,
    client_from_connection,
    get_provider_info,
)
from tableau_connected_auth.testing import FakeTableau  # noqa: E402

try:
    from airflow.sdk import Connection
except ImportError:  # Airflow 2
    from airflow.models.connection import Connection  # type: ignore[no-redef, assignment, unused-ignore]


def connection(fake: FakeTableau, conn_id: str = "tableau", **changes: Any) -> Any:
    fields: Dict[str, Any] = {
        "conn_id": conn_id,
        "conn_type": CONNECTION_TYPE,
        "host": fake.url,
        "login": fake.username,
        "password": fake.app_secret_value,
        "extra": json.dumps(
            {
                "site": fake.site,
                "client_id": fake.app_client_id,
                "secret_id": fake.app_secret_id,
                "scopes": "tableau:content:read",
            }
        ),
    }
    fields.update(changes)
    return Connection(**fields)


def test_hook_from_a_connection_signs_in_once(fake: FakeTableau) -> None:
    hook = TableauConnectedAppHook(connection=connection(fake))
    client = hook.get_conn()
    assert isinstance(client, tca.Client)
    assert hook.get_conn() is client and hook.get_client() is client
    assert client.server == fake.url and client.site == "mysite"
    assert client.get("workbooks").status == 200
    # Another hook for the same connection in the same process shares the session.
    again = TableauConnectedAppHook(connection=connection(fake)).get_conn()
    assert again.session().token == client.session().token
    assert fake.stats()["sign_ins"] == 1


def test_hook_looks_the_connection_up_by_id(fake: FakeTableau, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = connection(fake, conn_id="tableau_reports")
    monkeypatch.setenv("AIRFLOW_CONN_TABLEAU_REPORTS", conn.as_json() if hasattr(conn, "as_json") else conn.get_uri())
    hook = TableauConnectedAppHook("tableau_reports", timeout=20)
    assert hook.tableau_conn_id == "tableau_reports"
    assert hook.get_conn().session().site_content_url == "mysite"


def test_extras_in_every_shape(fake: FakeTableau) -> None:
    host, port = fake.url.rsplit(":", 1)
    prefix = f"extra__{CONNECTION_TYPE}__"
    conn = connection(
        fake,
        host=host,
        port=int(port),
        extra=json.dumps(
            {
                prefix + "site": fake.site,
                prefix + "client_id": fake.app_client_id,
                "secret_id": fake.app_secret_id,
                "scopes": ["tableau:content:read", "tableau:views:embed"],
                "api_version": "auto",
                "timeout": "15",
                "verify": "true",
            }
        ),
    )
    client = client_from_connection(conn)
    assert client.server == fake.url
    assert '"tableau:views:embed"' in repr(client)
    assert client.session().api_version == "3.28"


def test_a_connection_that_lacks_fields_is_one_error_without_secrets(fake: FakeTableau) -> None:
    conn = connection(fake, host=None, login="", extra=json.dumps({"client_id": "c"}))
    with pytest.raises(tca.ConfigurationError) as info:
        TableauConnectedAppHook(connection=conn).get_conn()
    message = str(info.value)
    for part in ("'tableau'", "host", "login", "'secret_id'", "'scopes'"):
        assert part in message, message
    assert "password" not in message and fake.app_secret_value not in message


def test_test_connection(fake: FakeTableau) -> None:
    ok, message = TableauConnectedAppHook(connection=connection(fake)).test_connection()
    assert ok and "mysite" in message
    wrong = "x" * len(fake.app_secret_value)
    ok, message = TableauConnectedAppHook(connection=connection(fake, password=wrong)).test_connection()
    assert not ok and "SignInError" in message and wrong not in message
    assert fake.stats()["sign_outs"] == 1  # the test signs out again


def test_airflow_offers_the_connection_type() -> None:
    from airflow.providers_manager import ProvidersManager

    info = get_provider_info()
    assert info["package-name"] == "tableau-connected-auth"
    manager = ProvidersManager()
    assert "tableau-connected-auth" in manager.providers  # found through our entry point
    # What the connection form lists (Airflow 3.2+), without importing the hook ...
    ui = {m.connection_type: m for m in manager.iter_connection_type_hook_ui_metadata()}
    assert ui[CONNECTION_TYPE].hook_name == "Tableau (Connected App)"
    assert ui[CONNECTION_TYPE].hook_class_name == "tableau_connected_auth.airflow.TableauConnectedAppHook"
    behaviour = ui[CONNECTION_TYPE].field_behaviour or {}
    assert behaviour["relabeling"]["password"] == "Secret value"
    assert "schema" in behaviour["hidden_fields"]
    widgets = manager.connection_form_widgets
    for field in ("site", "client_id", "secret_id", "scopes"):
        assert f"extra__{CONNECTION_TYPE}__{field}" in widgets
    # ... and what tasks import at run time.
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    hook = ProvidersManagerTaskRuntime().hooks[CONNECTION_TYPE]
    assert hook is not None and hook.connection_testable
    assert hook.hook_class_name == "tableau_connected_auth.airflow.TableauConnectedAppHook"


def test_importing_the_hook_first_works(fake: FakeTableau) -> None:
    """Importing tableau_connected_auth.airflow before airflow: Airflow's provider discovery then
    runs while our module is still being imported, and must find get_provider_info."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tableau_connected_auth.airflow import TableauConnectedAppHook\n"
        "assert 'airflow' in sys.modules\n"
        "from airflow.providers_manager import ProvidersManager\n"
        "assert 'tableau-connected-auth' in ProvidersManager().providers\n"
        "print(TableauConnectedAppHook.hook_name)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("Tableau (Connected App)")


def _task_process(url: str, site: str, username: str, secret: str, client_id: str, secret_id: str,
                  cache: str, results: Any) -> None:
    conn = Connection(conn_id="tableau", conn_type=CONNECTION_TYPE, host=url, login=username, password=secret,
                      extra=json.dumps({"site": site, "client_id": client_id, "secret_id": secret_id,
                                        "scopes": "tableau:content:read", "cache": cache}))
    client = TableauConnectedAppHook(connection=conn).get_conn()
    results.put(client.get("workbooks").status)


def test_a_disk_cache_extra_shares_one_session_among_task_processes(fake: FakeTableau, tmp_path: Any) -> None:
    import multiprocessing

    cache = f"disk:{tmp_path / 'sessions'}"
    client = client_from_connection(connection(fake, extra=json.dumps(
        {"site": fake.site, "client_id": fake.app_client_id, "secret_id": fake.app_secret_id,
         "scopes": "tableau:content:read", "cache": cache})))
    assert isinstance(client.cache, tca.DiskCache) and client.cache.path == str(tmp_path / "sessions")
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    args = (fake.url, fake.site, fake.username, fake.app_secret_value, fake.app_client_id, fake.app_secret_id,
            cache, results)
    procs = [ctx.Process(target=_task_process, args=args) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert sorted(results.get(timeout=10) for _ in range(3)) == [200, 200, 200]
    assert fake.stats()["sign_ins"] == 1


def test_the_hook_shows_this_processs_counters(fake: FakeTableau, monkeypatch: pytest.MonkeyPatch) -> None:
    import tableau_connected_auth as tca

    tca.reset_stats()
    hook = TableauConnectedAppHook(connection=connection(fake))
    hook.get_conn().session()
    hook.get_conn().session()
    logged: List[str] = []
    # Airflow's task loggers may not propagate to the root: catch what the hook logs itself.
    monkeypatch.setattr(hook.log, "info", lambda fmt, *args: logged.append(fmt % args))
    counters = hook.log_stats()
    assert counters["sign_ins"]["site"]["connected_app"]["ok"] == 1
    assert counters["memory"] == {"hits": 1, "misses": 1} == hook.stats()["memory"]
    assert len(logged) == 1 and logged[0].startswith("tableau_connected_auth: sign-ins: 1 ok, 0 refused, 0 failed")
    assert "(site connected_app 1)" in logged[0] and "memory 1 hits 1 misses" in logged[0]
