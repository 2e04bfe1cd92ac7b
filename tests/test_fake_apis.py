"""FakeTableau's Metadata API, VizQL Data Service and Pulse, driven from Python over raw HTTP
(urllib), with the settings the Python binding exposes."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Dict, Optional, Tuple

import pytest

from tableau_connected_auth import ConfigurationError
from tableau_connected_auth.testing import FakeTableau


def call(
    fake: FakeTableau, method: str, path: str, token: Optional[str] = None, body: Optional[Any] = None
) -> Tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(fake.url + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    if token is not None:
        req.add_header("X-Tableau-Auth", token)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def pat_token(fake: FakeTableau) -> str:
    status, body = call(
        fake,
        "POST",
        "/api/3.28/auth/signin",
        body={
            "credentials": {
                "personalAccessTokenName": fake.pat_name,
                "personalAccessTokenSecret": fake.pat_secret,
                "site": {"contentUrl": fake.site},
            }
        },
    )
    assert status == 200, body
    token: str = body["credentials"]["token"]
    return token


def vds_query(fake: FakeTableau, token: str, fields: Any) -> Tuple[int, Dict[str, Any]]:
    return call(
        fake,
        "POST",
        "/api/v1/vizql-data-service/query-datasource",
        token,
        {"datasource": {"datasourceLuid": fake.vds_datasource_id}, "query": {"fields": fields}},
    )


def test_metadata_api_settings() -> None:
    with FakeTableau() as fake:
        token = pat_token(fake)
        query = {"query": "{ workbooksConnection { nodes { name } totalCount } }"}
        status, body = call(fake, "POST", "/api/metadata/graphql", token, query)
        assert status == 200 and body["data"]["workbooksConnection"]["totalCount"] == 3
        assert "pageInfo" not in body["data"]["workbooksConnection"]

        fake.set_metadata_api_enabled(False)
        _, body = call(fake, "POST", "/api/metadata/graphql", token, query)
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FEATURE_DISABLED"
        fake.set_metadata_api_enabled(True)

        fake.set_metadata_access_denied(True)
        _, body = call(fake, "POST", "/api/metadata/graphql", token, query)
        assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
        fake.set_metadata_access_denied(False)

        fake.set_metadata_filter_required(True)
        _, body = call(fake, "POST", "/api/metadata/graphql", token, query)
        assert body["errors"][0]["extensions"]["code"] == "FILTER_REQUIRED"
        fake.set_metadata_filter_required(False)

        fake.set_metadata_backfill_running(True)
        _, body = call(fake, "POST", "/api/metadata/graphql", token, query)
        assert body["data"]["workbooksConnection"]["totalCount"] == 3
        assert body["errors"][0]["extensions"]["code"] == "BACKFILL_RUNNING"
        fake.set_metadata_backfill_running(True, placement="extensions")
        _, body = call(fake, "POST", "/api/metadata/graphql", token, query)
        assert "errors" not in body
        assert body["extensions"]["warnings"][0]["extensions"]["code"] == "BACKFILL_RUNNING"
        with pytest.raises(ConfigurationError):
            fake.set_metadata_backfill_running(True, placement="header")
        fake.set_metadata_backfill_running(False)
        _, body = call(fake, "POST", "/api/metadata/graphql", token, query)
        assert "errors" not in body and "extensions" not in body
        assert fake.stats()["metadata_api"] == 7


def test_vds_settings() -> None:
    with FakeTableau() as fake:
        token = pat_token(fake)
        fields = [{"fieldCaption": "Region"}, {"fieldCaption": "Quantity", "function": "SUM"}]
        status, body = vds_query(fake, token, fields)
        assert status == 200 and len(body["data"]) == 4
        total_quantity = sum(row["SUM(Quantity)"] for row in body["data"])
        status, body = vds_query(fake, token, [{"fieldCaption": "Quantity", "function": "SUM"}])
        assert body["data"] == [{"SUM(Quantity)": total_quantity}]

        fake.set_vds_row_limit(3)
        status, body = vds_query(fake, token, fields)
        assert (status, body["errorCode"]) == (400, "400804")
        fake.set_vds_row_limit(None)

        fake.set_vds_api_access(fake.vds_datasource_id, False)
        status, body = vds_query(fake, token, fields)
        assert (status, body["errorCode"]) == (403, "403800")
        assert set(body) == {"errorCode", "message", "datetime", "debug", "tab-error-code"}
        fake.set_vds_api_access(fake.vds_datasource_id, True)
        assert vds_query(fake, token, fields)[0] == 200
        with pytest.raises(ConfigurationError):
            fake.set_vds_api_access("not-a-data-source", False)

        status, body = call(fake, "GET", "/api/v1/vizql-data-service/simple-request")
        assert (status, body) == (200, "OK")
        assert fake.stats()["vds"] == 6


def test_pulse_settings() -> None:
    with FakeTableau() as fake:
        token = pat_token(fake)
        fake.set_pulse_definition_count(23)
        ids = fake.pulse_definition_ids()
        assert len(ids) == 23
        seen = []
        page_token = ""
        while True:
            status, body = call(fake, "GET", f"/api/-/pulse/definitions?page_size=5&page_token={page_token}", token)
            assert status == 200, body
            seen += [d["metadata"]["id"] for d in body["definitions"]]
            page_token = body["next_page_token"]
            if not page_token:
                break
        assert seen == ids
        metrics = fake.pulse_metric_ids(ids[4])
        _, body = call(fake, "GET", f"/api/-/pulse/definitions/{ids[4]}/metrics", token)
        assert [m["id"] for m in body["metrics"]] == metrics
        _, body = call(fake, "POST", "/api/-/pulse/metrics:batchGet", token, {"metric_ids": metrics[:1]})
        assert [m["definition_id"] for m in body["metrics"]] == [ids[4]]
        with pytest.raises(ConfigurationError):
            fake.pulse_metric_ids("nope")
        assert fake.stats()["pulse"] == 7
