"""client.paginate: every item of a REST list, page by page, XML and JSON, sync and async.

FakeTableau's default site ("") has a few hundred workbooks; the expected ids come from the
fake's own ``content_ids()``, never from an answer.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any, List

import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau

DEFAULT_SITE = ""


@pytest.mark.parametrize("wire_format", ["xml", "json"])
def test_paginate_reads_every_workbook_once(fake: FakeTableau, wire_format: str) -> None:
    expected = fake.content_ids(DEFAULT_SITE)["workbooks"]
    assert len(expected) > 250
    client = fake.client(site=DEFAULT_SITE, wire_format=wire_format)
    fake.reset_stats()
    items = list(client.paginate("workbooks", page_size=7))
    assert [w["id"] for w in items] == expected
    assert fake.stats()["workbooks"] == math.ceil(len(expected) / 7)
    # Items are dicts with the nested elements as dicts, in both formats.
    assert isinstance(items[0]["project"], dict) and items[0]["project"]["id"]


def test_the_default_page_size_is_tableaus(fake: FakeTableau) -> None:
    client = fake.client(site=DEFAULT_SITE)
    fake.reset_stats()
    n = sum(1 for _ in client.paginate("workbooks"))
    assert n == len(fake.content_ids(DEFAULT_SITE)["workbooks"])
    assert fake.stats()["workbooks"] == math.ceil(n / 100)
    fake.reset_stats()
    assert sum(1 for _ in client.paginate("workbooks", page_size=1000)) == n
    assert fake.stats()["workbooks"] == 1


def test_every_list_pages(fake: FakeTableau) -> None:
    ids = fake.content_ids(fake.site)
    client = fake.client(scopes=["tableau:content:read", "tableau:users:read"])
    for path in ("users", "projects", "workbooks", "views", "datasources"):
        assert [x["id"] for x in client.paginate(path, page_size=2)] == ids[path], path
    sites = [s["id"] for s in client.paginate(f"/api/{client.api_version}/sites", page_size=1)]
    assert ids["site"] in sites


def test_a_session_that_dies_mid_list_repeats_and_skips_nothing(fake: FakeTableau) -> None:
    expected = fake.content_ids(DEFAULT_SITE)["workbooks"]
    client = fake.client(site=DEFAULT_SITE)
    seen: List[str] = []
    for i, wb in enumerate(client.paginate("workbooks", page_size=50)):
        seen.append(wb["id"])
        if i in (49, 120):  # the last item of page 1, and in the middle of page 3
            fake.expire_all_sessions()
    assert seen == expected
    assert fake.stats()["sign_ins"] == 3


def test_async_for_reads_the_same_items(fake: FakeTableau) -> None:
    expected = fake.content_ids(DEFAULT_SITE)["workbooks"]

    async def main() -> List[Any]:
        aclient = tca.AsyncClient(fake.client(site=DEFAULT_SITE, wire_format="json"))
        return [w["id"] async for w in aclient.paginate("workbooks", page_size=99)]

    assert asyncio.run(main()) == expected


def test_many_tasks_page_the_same_list_on_one_session(fake: FakeTableau) -> None:
    expected = fake.content_ids(DEFAULT_SITE)["workbooks"]

    async def one(aclient: tca.AsyncClient) -> List[Any]:
        return [w["id"] async for w in aclient.paginate("workbooks", page_size=100)]

    async def main() -> List[List[Any]]:
        aclient = tca.AsyncClient(fake.client(site=DEFAULT_SITE))
        return await asyncio.gather(*(one(aclient) for _ in range(20)))

    assert all(ids == expected for ids in asyncio.run(main()))
    assert fake.stats()["sign_ins"] == 1


@pytest.mark.parametrize("size", [0, -1, 1001])
def test_page_size_is_checked_before_any_call(fake: FakeTableau, size: int) -> None:
    client = fake.client()
    with pytest.raises(tca.ConfigurationError, match="1 to 1000"):
        client.paginate("workbooks", page_size=size)
    assert fake.stats()["sign_ins"] == 0


def test_paging_parameters_are_paginates_own(fake: FakeTableau) -> None:
    with pytest.raises(tca.ConfigurationError, match="page_size="):
        fake.client().paginate("workbooks", params={"pageNumber": "2"})


def test_an_error_page_raises_a_typed_error(fake: FakeTableau) -> None:
    client = fake.client()
    with pytest.raises(tca.MissingScopeError) as info:
        list(client.paginate("users"))
    assert info.value.required_scopes == ["tableau:users:read"]
    fake.fail_next(500, code="500000", route="workbooks")
    with pytest.raises(tca.TableauApiError) as api_error:
        list(client.paginate("workbooks"))
    assert api_error.value.status == 500
    fake.html_next(route="workbooks")
    with pytest.raises(tca.ProtocolError):
        list(client.paginate("workbooks"))


def test_a_page_iterator_is_used_from_one_place(fake: FakeTableau) -> None:
    pages = fake.client().paginate("workbooks", page_size=1)
    assert next(pages)["id"] == fake.content_ids(fake.site)["workbooks"][0]
    assert "Pages" in repr(pages)
