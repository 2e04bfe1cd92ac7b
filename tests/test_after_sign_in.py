"""The APIs beside REST on one session: the Metadata API (graphql, graphql_paginate), VizQL
Data Service (vds) and Pulse (pulse_paginate, pulse_batch_get), sync and async, against
FakeTableau's own implementations (crates/fake/src/{metadata,vds,pulse}.rs). Expected values
come from the fake's accessors or from a second, independent query, never from copying.
"""

from __future__ import annotations

import asyncio
import warnings
from collections import defaultdict
from typing import Any, Dict, List

import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau
from bursts import errors_of_a_burst

ALL = [
    "tableau:content:read",
    "tableau:viz_data_service:read",
    "tableau:insight_definitions_metrics:read",
    "tableau:insight_metrics:read",
]
WORKBOOKS = """query($after: String, $first: Int) {
  workbooksConnection(first: $first, after: $after) {
    nodes { luid name projectName }
    pageInfo { hasNextPage endCursor }
    totalCount } }"""


@pytest.fixture
def client(fake: FakeTableau) -> tca.Client:
    return fake.client(scopes=ALL)


# -- VizQL Data Service ----------------------------------------------------------------------

def test_vds_aggregates_agree_with_the_rows(fake: FakeTableau, client: tca.Client) -> None:
    ds = fake.datasource_id
    fields = [f["fieldCaption"] for f in client.vds("read-metadata", ds)["data"]]
    assert {"Order ID", "Region", "Sales"} <= set(fields)
    rows = client.vds("query-datasource", ds, query={"fields": [
        {"fieldCaption": "Order ID"}, {"fieldCaption": "Region"}, {"fieldCaption": "Sales"}]})["data"]
    by_region: Dict[str, float] = defaultdict(float)
    for row in rows:
        by_region[row["Region"]] += row["Sales"]
    summed = client.vds("query-datasource", ds, query={"fields": [
        {"fieldCaption": "Region"}, {"fieldCaption": "Sales", "function": "SUM", "fieldAlias": "total"}]})["data"]
    assert {r["Region"]: r["total"] for r in summed} == pytest.approx(dict(by_region))
    model = client.vds("get-datasource-model", ds)
    assert model["logicalTables"]
    assert fake.stats()["vds"] == 4


def test_vds_without_its_scope_signs_in_once_then_names_it(fake: FakeTableau) -> None:
    client = fake.client(scopes=["tableau:content:read"])
    with pytest.raises(tca.MissingScopeError) as info:
        client.vds("read-metadata", fake.datasource_id)
    assert info.value.required_scopes == ["tableau:viz_data_service:read"]
    assert info.value.api == "VizQL Data Service"
    assert "tableau:viz_data_service:read" in str(info.value)
    assert fake.stats()["sign_ins"] == 2
    with pytest.raises(tca.MissingScopeError):
        client.vds("query-datasource", fake.datasource_id, query={"fields": [{"fieldCaption": "Region"}]})
    assert fake.stats()["sign_ins"] == 2  # remembered for every call that needs that scope


def test_fifty_threads_calling_vds_without_its_scope_sign_in_again_at_most_once(fake: FakeTableau) -> None:
    client = fake.client(scopes=["tableau:content:read"])
    client.session()
    errors = errors_of_a_burst(50, lambda: client.vds("read-metadata", fake.datasource_id))
    assert len(errors) == 50 and all(isinstance(e, tca.MissingScopeError) for e in errors)
    assert fake.stats()["sign_ins"] <= 2


def test_vds_errors_become_typed_errors_with_hints(fake: FakeTableau, client: tca.Client) -> None:
    ds = fake.datasource_id
    fake.set_vds_api_access(ds, False)
    with pytest.raises(tca.TableauApiError) as denied:
        client.vds("read-metadata", ds)
    assert (denied.value.status, denied.value.code) == (403, "403800")
    assert "API Access" in (denied.value.hint or "")
    fake.set_vds_api_access(ds, True)
    fake.set_vds_row_limit(3)
    with pytest.raises(tca.TableauApiError) as large:
        client.vds("query-datasource", ds, query={"fields": [{"fieldCaption": "Order ID"}]})
    assert large.value.code == "400804" and "narrow" in (large.value.hint or "")
    with pytest.raises(tca.TableauApiError) as unknown:
        client.vds("read-metadata", "00000000-0000-4000-8000-000000000000")
    assert unknown.value.status == 404
    assert "site not found" not in (unknown.value.hint or "")  # that hint is for sign-ins
    with pytest.raises(tca.ConfigurationError, match="needs query="):
        client.vds("query-datasource", ds)
    with pytest.raises(tca.ConfigurationError, match="takes no query"):
        client.vds("read-metadata", ds, query={"fields": []})
    with pytest.raises(tca.ConfigurationError, match="no endpoint"):
        client.vds("simple-request", ds)  # type: ignore[arg-type]


# -- the Metadata API ------------------------------------------------------------------------

def test_graphql_returns_data_and_pages_a_connection(fake: FakeTableau) -> None:
    client = fake.client(site="")
    rest = set(fake.content_ids("")["workbooks"])
    names = client.graphql("{ workbooks { luid } }")["workbooks"]
    assert {w["luid"] for w in names} == rest
    fake.reset_stats()
    nodes = list(client.graphql_paginate(WORKBOOKS, connection="workbooksConnection", variables={"first": 40}))
    assert len(nodes) == len(rest) and {n["luid"] for n in nodes} == rest
    assert fake.stats()["metadata_api"] == -(-len(rest) // 40)


def test_graphql_errors_raise_metadata_api_error(fake: FakeTableau, client: tca.Client) -> None:
    fake.set_metadata_access_denied(True)
    with pytest.raises(tca.MetadataApiError) as info:
        client.graphql("{ workbooks { name } }")
    assert info.value.codes == ["ACCESS_DENIED"]
    assert info.value.errors[0]["extensions"]["code"] == "ACCESS_DENIED"
    assert isinstance(info.value, tca.TableauApiError)
    fake.set_metadata_access_denied(False)
    fake.set_metadata_api_enabled(False)
    with pytest.raises(tca.MetadataApiError, match="FEATURE_DISABLED") as off:
        client.graphql("{ workbooks { name } }")
    assert "metadata-services enable" in str(off.value)
    fake.set_metadata_api_enabled(True)
    with pytest.raises(tca.MetadataApiError) as bad:
        client.graphql(WORKBOOKS.replace("first: $first", "first: 5, offset: 2"), {"after": "x"})
    assert "INVALID_ARGUMENT" in bad.value.codes


@pytest.mark.parametrize("placement", ["errors", "extensions"])
def test_backfill_running_is_a_warning_not_an_error(fake: FakeTableau, client: tca.Client, placement: str) -> None:
    fake.set_metadata_backfill_running(True, placement=placement)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        data = client.graphql("{ workbooks { name } }")
    assert len(data["workbooks"]) == len(fake.content_ids()["workbooks"])
    assert any(str(w.message).startswith("Metadata API:") and "incomplete" in str(w.message) for w in seen), [
        str(w.message) for w in seen]


def test_graphql_paginate_says_what_the_query_lacks(client: tca.Client) -> None:
    no_page_info = WORKBOOKS.replace("pageInfo { hasNextPage endCursor }", "")
    with pytest.raises(tca.ConfigurationError, match="pageInfo"):
        list(client.graphql_paginate(no_page_info, connection="workbooksConnection"))
    with pytest.raises(tca.ConfigurationError, match="no \"datasourcesConnection\""):
        list(client.graphql_paginate(WORKBOOKS, connection="datasourcesConnection"))
    with pytest.raises(tca.ConfigurationError, match=r"\$after"):
        client.graphql_paginate("{ workbooks { name } }", connection="workbooks")


def test_the_metadata_api_needs_content_read(fake: FakeTableau) -> None:
    client = fake.client(scopes=["tableau:viz_data_service:read"])
    with pytest.raises(tca.MissingScopeError) as info:
        client.graphql("{ workbooks { name } }")
    assert info.value.required_scopes == ["tableau:content:read"] and info.value.api == "Metadata API"


# -- Pulse -----------------------------------------------------------------------------------

def test_pulse_pages_every_definition_and_reads_batches(fake: FakeTableau, client: tca.Client) -> None:
    expected = fake.pulse_definition_ids()
    assert len(expected) > 20
    fake.reset_stats()
    definitions = list(client.pulse_paginate("definitions", page_size=7))
    assert sorted(d["metadata"]["id"] for d in definitions) == sorted(expected)
    assert fake.stats()["pulse"] == -(-len(expected) // 7)
    some = expected[:3]
    batch = client.pulse_batch_get("definitions", some)
    assert sorted(d["metadata"]["id"] for d in batch) == sorted(some)
    metric_ids = fake.pulse_metric_ids(some[0])
    metrics = list(client.pulse_paginate(f"definitions/{some[0]}/metrics"))
    assert sorted(m["id"] for m in metrics) == sorted(metric_ids)
    assert sorted(m["id"] for m in client.pulse_batch_get("metrics", metric_ids)) == sorted(metric_ids)
    assert client.pulse_batch_get("metrics", []) == []


def test_pulse_paging_survives_a_dead_session(fake: FakeTableau, client: tca.Client) -> None:
    expected = fake.pulse_definition_ids()
    seen: List[str] = []
    for i, d in enumerate(client.pulse_paginate(page_size=10)):
        seen.append(d["metadata"]["id"])
        if i == 9:
            fake.expire_all_sessions()
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))
    assert fake.stats()["sign_ins"] == 2


def test_pulse_arguments_are_checked(client: tca.Client) -> None:
    with pytest.raises(tca.ConfigurationError, match="1 to 1000"):
        client.pulse_paginate(page_size=0)
    with pytest.raises(tca.ConfigurationError, match="page_size="):
        client.pulse_paginate(params={"page_token": "x"})
    with pytest.raises(tca.ConfigurationError, match="no \"subscriptions\" batch"):
        client.pulse_batch_get("subscriptions", ["x"])  # type: ignore[arg-type]


def test_pulse_errors_are_typed(client: tca.Client) -> None:
    # Pulse answers errors in the gRPC-gateway shape {"code": 5, "message": ...}.
    with pytest.raises(tca.TableauApiError) as info:
        list(client.pulse_paginate("definitions/00000000-0000-4000-8000-000000000000/metrics"))
    assert (info.value.status, info.value.code) == (404, "5")
    assert "not found" in str(info.value)


def test_pulse_without_its_scope_names_it(fake: FakeTableau) -> None:
    client = fake.client(scopes=["tableau:content:read"])
    with pytest.raises(tca.MissingScopeError) as info:
        list(client.pulse_paginate())
    assert info.value.required_scopes == ["tableau:insight_definitions_metrics:read"]


# -- async twins -----------------------------------------------------------------------------

def test_the_async_twin_offers_the_same_calls(fake: FakeTableau, client: tca.Client) -> None:
    ds = fake.datasource_id
    rest = set(fake.content_ids()["workbooks"])

    async def main() -> Dict[str, Any]:
        aclient = tca.AsyncClient(client)
        return {
            "graphql": await aclient.graphql("{ workbooks { luid } }"),
            "nodes": [n async for n in aclient.graphql_paginate(
                WORKBOOKS, connection="workbooksConnection", variables={"first": 2})],
            "vds": await aclient.vds("read-metadata", ds),
            "pulse": [d async for d in aclient.pulse_paginate(page_size=9)],
            "batch": await aclient.pulse_batch_get("definitions", fake.pulse_definition_ids()[:2]),
            "workbooks": [w async for w in aclient.paginate("workbooks", page_size=2)],
        }

    got = asyncio.run(main())
    assert {w["luid"] for w in got["graphql"]["workbooks"]} == rest
    assert {n["luid"] for n in got["nodes"]} == rest
    assert got["vds"]["data"] == client.vds("read-metadata", ds)["data"]
    assert len(got["pulse"]) == len(fake.pulse_definition_ids())
    assert len(got["batch"]) == 2
    assert [w["id"] for w in got["workbooks"]] == fake.content_ids()["workbooks"]
    assert fake.stats()["sign_ins"] == 1


def test_async_errors_are_the_same_types(fake: FakeTableau) -> None:
    async def main() -> None:
        aclient = tca.AsyncClient(fake.client(scopes=["tableau:content:read"]))
        with pytest.raises(tca.MissingScopeError):
            await aclient.vds("read-metadata", fake.datasource_id)
        fake.set_metadata_access_denied(True)
        with pytest.raises(tca.MetadataApiError):
            await aclient.graphql("{ workbooks { name } }")
        with pytest.raises(tca.MissingScopeError):
            async for _ in aclient.pulse_paginate():
                pass

    asyncio.run(main())
