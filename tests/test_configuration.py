"""Bad configuration fails in the constructor, before any network I/O, saying what to change."""

from __future__ import annotations

from typing import Any, Callable

import pytest

import tableau_connected_auth as tca

APP = tca.ConnectedApp(client_id="cid", secret_id="sid", secret_value="value")
CREDS = APP.credentials("me@example.com", scopes=["tableau:content:read"])


def client(**kw: Any) -> tca.Client:
    args: dict = {"site": "mysite", "credentials": CREDS}
    args.update(kw)
    server = args.pop("server", "https://tableau.example.com")
    return tca.Client(server, **args)


BAD: list = [
    (lambda: tca.ConnectedApp(client_id="", secret_id="s", secret_value="v"), "client_id is empty"),
    (lambda: tca.ConnectedApp(client_id="c", secret_id="  ", secret_value="v"), "secret_id is empty"),
    (lambda: tca.ConnectedApp(client_id="c", secret_id="s", secret_value=""), "secret_value is empty"),
    (lambda: tca.ConnectedApp(client_id="c ", secret_id="s", secret_value="v"), "whitespace"),
    (lambda: tca.ConnectedApp(client_id=123, secret_id="s", secret_value="v"), "client_id must be a string"),
    (lambda: APP.credentials("", scopes=["tableau:content:read"]), "username is empty"),
    (lambda: APP.credentials("u", scopes="tableau:content:read"), "not a single string"),
    (lambda: APP.credentials("u", scopes=[]), "scopes is empty"),
    (lambda: APP.credentials("u", scopes=[1]), "only strings"),
    (lambda: APP.credentials("u", scopes=["content:read"]), "malformed"),
    (lambda: APP.credentials("u", scopes=["tableau:content:read"], lifetime=0), "between 1 and 600"),
    (lambda: APP.credentials("u", scopes=["tableau:content:read"], lifetime=601), "between 1 and 600"),
    (lambda: APP.credentials("u", scopes=["tableau:content:read"], lifetime="300"), "number of seconds"),
    (lambda: APP.credentials("u", scopes=["tableau:content:read"], user_attributes={"exp": "1"}), "reserved"),
    (lambda: APP.credentials("u", scopes=["tableau:content:read"], user_attributes={"n": 1}), "must be a string or a list of strings, not int"),
    (lambda: APP.credentials("u", scopes=["tableau:content:read"], user_attributes={"n": [1]}), "must hold only strings"),
    (lambda: APP.jwt("u", scopes=["tableau:content:read"], lifetime=900), "between 1 and 600"),
    (lambda: client(server="ftp://h"), "scheme"),
    (lambda: client(server="https://h/api/3.24"), "adds /api"),
    (lambda: client(server="https://h?x=1"), "query"),
    (lambda: client(server="https://h/#/site/sales/home"), 'site="sales"'),
    (lambda: client(server=""), "server is empty"),
    (lambda: client(site="My Site"), "contentUrl"),
    (lambda: client(site=" mysite"), "whitespace"),
    (lambda: client(site=None), "site must be a string"),
    (lambda: client(api_version="latest"), "api_version"),
    (lambda: client(api_version="3.15"), "3.16"),
    (lambda: client(timeout=-1), "timeout"),
    (lambda: client(timeout=0), "timeout"),
    (lambda: client(retries=-1), "retries"),
    (lambda: client(retries=True), "retries"),
    (lambda: client(wire_format="yaml"), "wire_format"),
    (lambda: client(verify="/nonexistent/ca.pem"), "ca_bundle"),
    (lambda: client(proxy="not a url"), "proxy"),
    (lambda: client(impersonate="Bob Smith"), "LUID"),
    (lambda: client(credentials=APP), "app.credentials"),
    (lambda: client(credentials="token"), "credentials must be"),
    (lambda: tca.PersonalAccessToken("", "secret"), "name is empty"),
    (lambda: tca.PersonalAccessToken("n", ""), "secret is empty"),
    (lambda: tca.UsernamePassword("u", ""), "password is empty"),
    (lambda: tca.Jwt("not-a-jwt"), "three base64url parts"),
]


@pytest.mark.parametrize("make, needle", BAD, ids=[b[1] + f"#{i}" for i, b in enumerate(BAD)])
def test_bad_input_is_a_configuration_error(make: Callable[[], Any], needle: str) -> None:
    with pytest.raises(tca.ConfigurationError) as info:
        make()
    assert needle in str(info.value)
    assert isinstance(info.value, ValueError)


def test_construction_does_no_network_io() -> None:
    # Nothing listens on this port: a constructor that touched the network would fail.
    c = client(server="http://127.0.0.1:1")
    assert c.server == "http://127.0.0.1:1"


def test_scheme_less_server_means_https() -> None:
    assert client(server="tableau.example.com").server == "https://tableau.example.com"
    assert client(server="https://Tableau.Example.com/").server == "https://tableau.example.com"
