"""tableauserverclient (TSC) itself against FakeTableau: serverInfo and the REST version TSC picks,
PAT and JWT sign-in, and the everyday lists (users, sites, projects, data sources, views,
workbooks) read page by page with ``TSC.Pager``. Every expected id comes from the fake's own
``content_ids()``; nothing is copied from an answer. Only 127.0.0.1 is contacted.

TSC 0.42 with ``use_server_version=True`` signs in at its default REST version (2.4) and asks
serverInfo right after the sign-in; older TSC (0.38, what CPython 3.9 gets) asks it when the
Server is made. Either way it then uses the server's version.
"""

from __future__ import annotations

import math
import secrets
from typing import Iterator, List

import pytest
import requests
import tableauserverclient as TSC

from tableau_connected_auth.testing import FakeTableau

READ_ALL = ["tableau:content:read", "tableau:users:read"]


def _server(fake: FakeTableau) -> TSC.Server:
    """A TSC server for the fake that uses the server's REST version (asked after sign-in)."""

    def session_factory() -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # no proxy from the environment: 127.0.0.1 only
        return session

    return TSC.Server(fake.url, use_server_version=True, session_factory=session_factory)


def _sign_in(fake: FakeTableau, server: TSC.Server, method: str, site: str, scopes: List[str]) -> None:
    credentials: TSC.models.tableau_auth.Credentials
    if method == "pat":
        if site == fake.site:
            name, secret = fake.pat_name, fake.pat_secret
        else:
            name, secret = "tsc-" + secrets.token_hex(4), secrets.token_urlsafe(24)
            fake.add_pat(name, secret, site=site)
        credentials = TSC.PersonalAccessTokenAuth(name, secret, site_id=site)
    else:
        credentials = TSC.JWTAuth(fake.connected_app.jwt(fake.username, scopes=scopes), site_id=site)
    server.auth.sign_in(credentials)


@pytest.fixture(params=["3.28", "3.21"])
def version(request: pytest.FixtureRequest, fake: FakeTableau) -> Iterator[str]:
    fake.set_max_api_version(request.param)
    yield request.param


@pytest.mark.parametrize("site", ["mysite", ""], ids=["mysite", "default-site"])
@pytest.mark.parametrize("method", ["pat", "jwt"])
def test_tsc_reads_every_list_page_by_page(fake: FakeTableau, version: str, method: str, site: str) -> None:
    # A site the user can see and one it cannot, for sites.get.
    fake.add_site("third", "Third")
    fake.add_user(fake.username, site="third")
    fake.add_site("elsewhere", "Elsewhere")

    server = _server(fake)
    # TSC >= 0.39 keeps its default (2.4) until it has signed in and asks serverInfo then;
    # older ones (TSC < 0.39 is what CPython 3.9 gets) ask when the Server is made.
    assert server.version in ("2.4", version)
    _sign_in(fake, server, method, site, READ_ALL)
    assert server.version == version  # the server's, from serverInfo
    ids = fake.content_ids(site)
    assert server.site_id == ids["site"]
    fake.reset_stats()

    assert [u.id for u in TSC.Pager(server.users)] == ids["users"]
    assert [p.id for p in TSC.Pager(server.projects)] == ids["projects"]
    assert [d.id for d in TSC.Pager(server.datasources)] == ids["datasources"]
    assert [v.id for v in TSC.Pager(server.views)] == ids["views"]
    workbooks = list(TSC.Pager(server.workbooks))
    assert [w.id for w in workbooks] == ids["workbooks"]
    assert {w.project_id for w in workbooks} <= set(ids["projects"])

    # One request per page of 100 (TSC's default), no more.
    stats = fake.stats()
    for name in ("users", "projects", "datasources", "views", "workbooks"):
        assert stats[name] == max(1, math.ceil(len(ids[name]) / 100)), (name, stats)
    if site == "":
        assert stats["workbooks"] > 1 and stats["views"] > 1, "the default site holds several pages"

    # Small pages: the same items, in the same order.
    small = TSC.RequestOptions(pagesize=2)
    assert [w.id for w in TSC.Pager(server.workbooks, small)] == ids["workbooks"]
    assert [v.id for v in TSC.Pager(server.views, TSC.RequestOptions(pagesize=7))] == ids["views"]

    # Sites: the user's sites (by content URL), and the signed-in one by id.
    visible = sorted(["", "mysite", "third"])
    assert [s.id for s in TSC.Pager(server.sites)] == [fake.site_luid(c) for c in visible]
    assert [s.content_url for s in TSC.Pager(server.sites, TSC.RequestOptions(pagesize=1))] == visible
    this_site = server.sites.get_by_id(server.site_id)
    assert (this_site.id, this_site.content_url) == (ids["site"], site)
    server.auth.sign_out()


def test_tsc_finds_the_published_data_source_by_id(fake: FakeTableau) -> None:
    server = _server(fake)
    _sign_in(fake, server, "pat", fake.site, READ_ALL)
    datasource = server.datasources.get_by_id(fake.datasource_id)
    assert datasource.id == fake.datasource_id
    assert datasource.id in fake.content_ids(fake.site)["datasources"]
    assert datasource.project_id in fake.content_ids(fake.site)["projects"]


def test_tsc_pages_through_added_workbooks(fake: FakeTableau) -> None:
    added = fake.add_workbooks(150)
    server = _server(fake)
    _sign_in(fake, server, "jwt", fake.site, ["tableau:workbooks:read"])
    ids = [w.id for w in TSC.Pager(server.workbooks)]
    assert ids == fake.content_ids()["workbooks"]
    assert ids[-len(added) :] == added
    assert fake.stats()["workbooks"] == math.ceil(len(ids) / 100)


def test_a_jwt_without_users_read_gets_401002_from_users_get(fake: FakeTableau) -> None:
    server = _server(fake)
    _sign_in(fake, server, "jwt", fake.site, ["tableau:content:read"])
    # TSC raises every 401 as FailedSignInError; the status and code are Tableau's.
    with pytest.raises(TSC.FailedSignInError) as info:
        server.users.get()
    assert info.value.code == "401002"
    # The other lists are open to tableau:content:read, and the session still lives.
    assert [w.id for w in TSC.Pager(server.workbooks)] == fake.content_ids()["workbooks"]
    assert fake.is_session_alive(server.auth_token)


def test_a_jwt_with_only_users_read_cannot_list_workbooks(fake: FakeTableau) -> None:
    server = _server(fake)
    _sign_in(fake, server, "jwt", fake.site, ["tableau:users:read"])
    assert [u.id for u in TSC.Pager(server.users)] == fake.content_ids()["users"]
    with pytest.raises(TSC.FailedSignInError) as info:
        server.workbooks.get()
    assert info.value.code == "401002"


def test_bad_page_sizes_are_tableau_errors(fake: FakeTableau) -> None:
    server = _server(fake)
    _sign_in(fake, server, "pat", fake.site, READ_ALL)
    for size, code in [(1001, "403014"), (-1, "400007")]:
        with pytest.raises(TSC.ServerResponseError) as info:
            server.workbooks.get(TSC.RequestOptions(pagesize=size))
        assert info.value.code == code
    with pytest.raises(TSC.ServerResponseError) as info:
        server.views.get(TSC.RequestOptions(pagenumber=-3))
    assert info.value.code == "400006"
    # Past the last page: nothing, with the same total.
    total = len(fake.content_ids()["projects"])
    items, pagination = server.projects.get(TSC.RequestOptions(pagenumber=total + 1, pagesize=1))
    assert items == [] and pagination.total_available == total
