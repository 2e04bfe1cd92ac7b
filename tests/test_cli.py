"""The tableau-auth command: jwt, token, whoami, demo, fake; flags over environment variables;
--json; exit codes 0/1/2; errors on stderr without tracebacks; no secret in default output."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import jwt as pyjwt
import pytest

from tableau_connected_auth import cli
from tableau_connected_auth.testing import FakeTableau
from tableau_env import fake_env


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, fake: FakeTableau) -> Iterator[pytest.MonkeyPatch]:
    """TABLEAU_* variables pointing at the fake (and nothing from the machine running the tests)."""
    for name in list(os.environ):
        if name.startswith("TABLEAU_"):
            monkeypatch.delenv(name)
    for name, value in fake_env(fake).items():
        monkeypatch.setenv(name, value)
    yield monkeypatch




def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def secrets_of(fake: FakeTableau) -> List[str]:
    return [fake.app_secret_value, fake.pat_secret, fake.admin_password]


def assert_no_secret(fake: FakeTableau, *texts: str) -> None:
    for text in texts:
        for secret in secrets_of(fake):
            assert secret not in text
        assert "|" not in text, text  # a session token: "xxx|yyy|site-luid"
        assert "eyJ" not in text, text  # a JWT's base64 header
        assert "Traceback" not in text


# --- token --------------------------------------------------------------------------------------


def test_token_prints_only_a_live_token(env: pytest.MonkeyPatch, fake: FakeTableau, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "token")
    assert code == 0 and err == ""
    token = out.strip()
    assert out == token + "\n" and "\n" not in token
    assert fake.is_session_alive(token)  # the token stays alive for the shell script to use

    code, out, _ = run(capsys, "token", "--json")
    body = json.loads(out)
    assert code == 0 and fake.is_session_alive(body["token"])
    assert body["site"] == "mysite" and body["server"] == fake.url and body["site_id"] and body["user_id"]


def test_token_with_a_personal_access_token(env: pytest.MonkeyPatch, fake: FakeTableau, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("TABLEAU_CLIENT_ID", "TABLEAU_SECRET_ID", "TABLEAU_SECRET_VALUE", "TABLEAU_USERNAME", "TABLEAU_SCOPES"):
        env.delenv(name)
    env.setenv("TABLEAU_PAT_SECRET", fake.pat_secret)
    code, out, err = run(capsys, "token", "--pat-name", fake.pat_name)
    assert code == 0, err
    assert fake.is_session_alive(out.strip())


# --- jwt ----------------------------------------------------------------------------------------


def test_jwt_mints_a_token_tableau_accepts(env: pytest.MonkeyPatch, fake: FakeTableau, capsys: pytest.CaptureFixture[str]) -> None:
    env.delenv("TABLEAU_SERVER")  # minting needs no server
    code, out, err = run(
        capsys, "jwt", "--scopes", "tableau:views:embed,tableau:content:read", "--attribute", "Region=East",
        "--attribute", "Region=West", "--lifetime", "120",
    )
    assert code == 0, err
    token = out.strip()
    claims = pyjwt.decode(token, fake.app_secret_value, algorithms=["HS256"], audience="tableau")
    assert claims["sub"] == fake.username and claims["iss"] == fake.app_client_id
    assert claims["scp"] == ["tableau:views:embed", "tableau:content:read"]
    assert claims["Region"] == ["East", "West"]
    assert 115 <= claims["exp"] - claims["iat"] <= 130  # iat is a little in the past, for clock skew
    assert pyjwt.get_unverified_header(token)["kid"] == fake.app_secret_id

    code, out, _ = run(capsys, "jwt", "--json", "--username", "someone@example.com")
    body = json.loads(out)
    assert code == 0 and body["claims"]["sub"] == "someone@example.com" and body["header"]["alg"] == "HS256"
    assert pyjwt.decode(body["jwt"], fake.app_secret_value, algorithms=["HS256"], audience="tableau")
    assert "https://tableau.com/oda" not in body["claims"]

    code, out, _ = run(capsys, "jwt", "--json", "--on-demand-access", "--group", "Sales", "--group", "East")
    claims = json.loads(out)["claims"]
    assert code == 0 and claims["https://tableau.com/oda"] == "true"
    assert claims["https://tableau.com/groups"] == ["Sales", "East"]


def test_jwt_needs_a_whole_connected_app(env: pytest.MonkeyPatch, fake: FakeTableau, capsys: pytest.CaptureFixture[str]) -> None:
    env.delenv("TABLEAU_SECRET_VALUE")
    env.delenv("TABLEAU_SCOPES")
    code, out, err = run(capsys, "jwt")
    assert (code, out) == (2, "")
    assert "TABLEAU_SECRET_VALUE" in err and "TABLEAU_SCOPES" in err and "TABLEAU_CLIENT_ID" not in err
    env.setenv("TABLEAU_SECRET_VALUE", fake.app_secret_value)
    code, _, err = run(capsys, "jwt", "--scopes", "a", "--attribute", "novalue")
    assert code == 2 and "KEY=VALUE" in err


# --- whoami -------------------------------------------------------------------------------------


def test_whoami_shows_who_and_where_without_a_secret(env: pytest.MonkeyPatch, fake: FakeTableau, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "whoami")
    assert code == 0 and err == ""
    assert "me@example.com" in out and "My Site" in out and '"mysite"' in out and "Explorer" in out
    assert "token=***" in out
    assert_no_secret(fake, out)
    stats = fake.stats()
    assert stats["sessions_current"] == 1 and stats["sign_outs"] == 1 and stats["active_sessions"] == 0

    code, out, _ = run(capsys, "whoami", "--json")
    body = json.loads(out)
    assert code == 0
    assert body["user"]["name"] == "me@example.com" and body["user"]["site_role"] == "Explorer"
    assert body["site"] == {"id": body["site_id"], "name": "My Site", "content_url": "mysite"}
    assert "token" not in body
    assert_no_secret(fake, out)


def test_flags_win_over_the_environment(env: pytest.MonkeyPatch, fake: FakeTableau, capsys: pytest.CaptureFixture[str]) -> None:
    env.setenv("TABLEAU_SERVER", "http://127.0.0.1:9")
    env.setenv("TABLEAU_SITE", "nope")
    code, out, err = run(capsys, "whoami", "--server", fake.url, "--site", "mysite", "--api-version", "auto", "--json")
    assert code == 0, err
    assert json.loads(out)["api_version"] == "3.28"
    code, _, err = run(capsys, "whoami", "--server", fake.url, "--site", "", "--scopes", "tableau:content:read")
    assert code == 0, err  # "" is the default site, where the app and user exist as well


# --- errors and exit codes ----------------------------------------------------------------------


def test_a_refused_sign_in_is_exit_1_on_stderr(env: pytest.MonkeyPatch, fake: FakeTableau, capsys: pytest.CaptureFixture[str]) -> None:
    # A first character it does not already have (the secret is random: "W" + rest was the
    # right secret about one run in 60).
    wrong = ("X" if fake.app_secret_value[0] == "W" else "W") + fake.app_secret_value[1:]
    env.setenv("TABLEAU_SECRET_VALUE", wrong)
    code, out, err = run(capsys, "whoami")
    assert (code, out) == (1, "")
    assert err.startswith("tableau-auth: SignInError:") and "401001" in err
    assert wrong not in err
    assert_no_secret(fake, err)

    code, out, err = run(capsys, "token", "--json")
    assert (code, out) == (1, "")
    error = json.loads(err)
    assert error["error"] == "SignInError" and error["code"] == "401001" and error["status"] == 401
    assert error["hint"] and wrong not in err


def test_network_errors_are_exit_1(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "token", "--server", "http://127.0.0.1:9", "--timeout", "5")
    assert (code, out) == (1, "")
    assert err.startswith("tableau-auth: TransportError:") and "Traceback" not in err


def test_configuration_and_usage_errors_are_exit_2(env: pytest.MonkeyPatch, fake: FakeTableau, capsys: pytest.CaptureFixture[str]) -> None:
    env.delenv("TABLEAU_SERVER")
    env.setenv("TABLEAU_PAT_NAME", "p")
    code, out, err = run(capsys, "whoami")
    assert (code, out) == (2, "")
    assert "missing: TABLEAU_SERVER" in err and "conflicting:" in err and "TABLEAU_PAT_NAME" in err
    assert "flags" in err and "keyword arguments" not in err
    assert_no_secret(fake, err)

    code, _, err = run(capsys, "whoami", "--json")
    assert code == 2 and json.loads(err)["error"] == "ConfigurationError"

    assert run(capsys, "whoami", "--no-such-flag")[0] == 2
    assert run(capsys, "no-such-command")[0] == 2
    code, _, err = run(capsys)
    assert code == 2 and "jwt" in err and "whoami" in err
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "Exit codes" in out
    code, out, _ = run(capsys, "whoami", "--help")
    assert code == 0 and "TABLEAU_SERVER" in out and "--secret-value" not in out  # no secret flags
    env.setenv("TABLEAU_SERVER", fake.url)
    env.delenv("TABLEAU_PAT_NAME")
    assert run(capsys, "whoami", "--api-version", "banana")[0] == 2


# --- demo ---------------------------------------------------------------------------------------


def test_demo_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo", "--json")
    body = json.loads(out)
    assert code == 0
    assert body["cached"] and body["signed_out"] and body["server_saw"]["sign_ins"] == 1
    assert "token=***" in body["signed_in"] and "|" not in body["signed_in"]
    assert body["workbooks"][0] == "Superstore"


# --- as a program -------------------------------------------------------------------------------


def test_the_console_script_and_python_m_agree(fake: FakeTableau) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TABLEAU_")}
    environ.update(fake_env(fake))
    script = shutil.which("tableau-auth", path=str(Path(sys.executable).parent))
    assert script, "the tableau-auth console script is installed next to python"
    for command in ([script], [sys.executable, "-m", "tableau_connected_auth"]):
        out = subprocess.run(command + ["whoami"], capture_output=True, text=True, timeout=60, env=environ)
        assert out.returncode == 0, out.stderr
        assert "me@example.com" in out.stdout
        assert_no_secret(fake, out.stdout, out.stderr)
        bad = subprocess.run(command + ["whoami", "--site", "nope"], capture_output=True, text=True, timeout=60, env=environ)
        assert bad.returncode == 1 and bad.stdout == "" and "SignInError" in bad.stderr
        assert "Traceback" not in bad.stderr


def test_fake_serves_until_stopped(tmp_path: Path) -> None:
    env_file = tmp_path / "fake.env"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TABLEAU_")}
    fake = subprocess.Popen(
        [sys.executable, "-m", "tableau_connected_auth", "fake", "--env-file", str(env_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ,
    )
    try:
        deadline = time.monotonic() + 30
        while not env_file.exists():
            assert fake.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        variables = dict(
            line.removeprefix("export ").split("=", 1) for line in env_file.read_text().splitlines()
        )
        assert set(variables) == set(fake_env_names())
        environ.update({k: v.strip("'") for k, v in variables.items()})
        out = subprocess.run(
            [sys.executable, "-m", "tableau_connected_auth", "whoami", "--json"],
            capture_output=True, text=True, timeout=60, env=environ,
        )
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["user"]["name"] == "me@example.com"
        tcm = subprocess.run(
            [sys.executable, "-m", "tableau_connected_auth", "whoami", "--cloud-manager", "--json"],
            capture_output=True, text=True, timeout=60, env=environ,
        )
        assert tcm.returncode == 0, tcm.stderr
    finally:
        fake.send_signal(signal.SIGTERM)
        stdout, stderr = fake.communicate(timeout=30)
    assert fake.returncode == 0, stderr
    assert not env_file.exists()  # removed when it stops


def fake_env_names() -> List[str]:
    return [
        "TABLEAU_SERVER", "TABLEAU_SITE", "TABLEAU_CLIENT_ID", "TABLEAU_SECRET_ID", "TABLEAU_SECRET_VALUE",
        "TABLEAU_USERNAME", "TABLEAU_SCOPES", "TABLEAU_CLOUD_MANAGER_URL", "TABLEAU_CLOUD_MANAGER_PAT_SECRET",
    ]


# --- Tableau Cloud Manager ------------------------------------------------------------------------


def test_token_and_whoami_for_cloud_manager(env: pytest.MonkeyPatch, fake: FakeTableau, capsys: pytest.CaptureFixture[str]) -> None:
    env.setenv("TABLEAU_CLOUD_MANAGER_PAT_SECRET", fake.cloud_manager_pat_secret)
    code, out, err = run(capsys, "token", "--cloud-manager", "--server", fake.url)
    assert code == 0, err
    token = out.strip()
    assert fake.is_session_alive(token) and fake.stats()["cloud_manager_sign_ins"] == 1
    assert fake.stats()["sign_ins"] == 0  # the site variables in the environment were not used

    env.setenv("TABLEAU_CLOUD_MANAGER_URL", fake.url)
    code, out, err = run(capsys, "whoami", "--cloud-manager", "--json")
    body = json.loads(out)
    assert code == 0, err
    assert body["tenant_id"] == fake.tenant_id and body["server"] == fake.url and body["user_id"]
    assert "token" not in body
    code, out, err = run(capsys, "whoami", "--cloud-manager")
    assert code == 0 and fake.tenant_id in out and "token=***" in out
    for text in (out, err):
        assert fake.cloud_manager_pat_secret not in text and token not in text
    assert fake.stats()["cloud_manager_sign_outs"] == 2  # whoami signs out; token leaves its session alive


def test_cloud_manager_refuses_site_flags_and_names_missing_variables(env: pytest.MonkeyPatch, fake: FakeTableau, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "token", "--cloud-manager", "--site", "mysite")
    assert (code, out) == (2, "") and "--site cannot be used with --cloud-manager" in err
    code, out, err = run(capsys, "whoami", "--cloud-manager", "--server", fake.url)
    assert (code, out) == (2, "") and "TABLEAU_CLOUD_MANAGER_PAT_SECRET" in err
    env.setenv("TABLEAU_CLOUD_MANAGER_PAT_SECRET", "not-a-tcm-secret-" + fake.pat_secret)
    code, out, err = run(capsys, "token", "--cloud-manager", "--server", fake.url, "--json")
    assert code == 1 and out == ""
    error = json.loads(err)
    assert error["error"] == "SignInError" and "Tableau Cloud Manager" in error["hint"]
    assert fake.pat_secret not in err


def test_stats_flag_shows_the_counters(env: pytest.MonkeyPatch, fake: FakeTableau, capsys: pytest.CaptureFixture[str]) -> None:
    import tableau_connected_auth as tca

    tca.reset_stats()
    code, out, err = run(capsys, "token", "--stats")
    assert code == 0 and fake.is_session_alive(out.strip())  # stdout holds only the token
    assert err.startswith("tableau-auth: stats: sign-ins: 1 ok, 0 refused, 0 failed (site connected_app 1)")
    code, out, err = run(capsys, "whoami", "--json", "--stats")
    body = json.loads(out)
    assert code == 0 and err == ""
    assert body["stats"]["sign_ins"]["site"]["connected_app"]["ok"] == 1  # the token's session, reused
    assert body["stats"]["memory"]["hits"] >= 1
    assert_no_secret(fake, out, err)
