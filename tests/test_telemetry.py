"""OpenTelemetry: spans per sign-in and per request, and the counters as metrics, checked with the
SDK's in-memory exporters. No secret in any attribute."""

from __future__ import annotations

import os
import time
from typing import Any, Dict, Iterator, List

import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau

if os.environ.get("CI"):  # scripts/test.sh installs the SDK: a missing one must fail there
    import opentelemetry.sdk  # noqa: F401
else:
    pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from tableau_connected_auth import telemetry


class Recorded:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.metrics = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metrics])

    def finished(self, name: str, count: int, timeout: float = 5.0) -> List[ReadableSpan]:
        """The spans called `name`, once there are `count` (records reach Python within 50 ms)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [s for s in self.spans.get_finished_spans() if s.name == name]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.01)

    def points(self, metric: str) -> List[Any]:
        data = self.metrics.get_metrics_data()
        if data is None:  # nothing observed at all
            return []
        return [
            p
            for rm in data.resource_metrics
            for sm in rm.scope_metrics
            for m in sm.metrics
            if m.name == metric
            for p in m.data.data_points
        ]


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    r = Recorded()
    tca.reset_stats()
    telemetry.instrument(tracer_provider=r.tracer_provider, meter_provider=r.meter_provider)
    try:
        yield r
    finally:
        telemetry.uninstrument()


def test_a_span_per_sign_in_and_per_request_without_secrets(fake: FakeTableau, recorded: Recorded) -> None:
    client = fake.client()
    session = client.session()
    assert client.get("workbooks", params={"filter": "name:eq:x"}).ok
    fake.expire_all_sessions()
    assert client.get("workbooks").ok  # a dead session, a re-sign-in inside the request
    second = client.session()
    with pytest.raises(tca.SignInError):
        tca.Client(fake.url, site=fake.site, credentials=tca.PersonalAccessToken(fake.pat_name, "wrong")).session()

    sign_ins = recorded.finished("tableau.sign_in", 3)
    requests = recorded.finished("tableau.request", 2)
    assert len(sign_ins) == 3 and len(requests) == 2
    ok = [s for s in sign_ins if s.attributes and s.attributes["tableau.sign_in.outcome"] == "ok"]
    assert len(ok) == 2
    for span in ok:
        assert span.kind == SpanKind.CLIENT and span.status.status_code != StatusCode.ERROR
        assert dict(span.attributes or {}) == {
            "tableau.service": "site",
            "server.address": "127.0.0.1",
            "server.port": int(fake.url.rsplit(":", 1)[1]),
            "tableau.site": fake.site,
            "tableau.sign_in.method": "connected_app",
            "tableau.sign_in.outcome": "ok",
        }
        assert span.start_time is not None and span.end_time is not None
        assert span.start_time <= span.end_time
    refused = [s for s in sign_ins if s not in ok][0]
    assert refused.status.status_code == StatusCode.ERROR
    assert (refused.attributes or {})["error.type"] == "SignInError"
    for span in requests:
        attributes = dict(span.attributes or {})
        assert attributes["http.request.method"] == "GET"
        assert attributes["url.path"] == f"/api/3.24/sites/{session.site_id}/workbooks"
        assert attributes["http.response.status_code"] == 200
        assert (attributes["server.address"], attributes["server.port"]) == ("127.0.0.1", int(fake.url.rsplit(":", 1)[1]))
    # The request that met the dead session holds its re-sign-in.
    last = max(requests, key=lambda s: s.start_time or 0)
    resign = max(ok, key=lambda s: s.start_time or 0)
    assert (last.start_time or 0) <= (resign.start_time or 0) <= (resign.end_time or 0) <= (last.end_time or 0)

    secrets = [session.token, second.token, fake.app_secret_value, fake.pat_secret, "wrong", "name:eq:x"]
    for span in sign_ins + requests:
        for value in (span.attributes or {}).values():
            for secret in secrets:
                assert secret not in str(value)


def test_the_counters_are_metrics(fake: FakeTableau, recorded: Recorded) -> None:
    client = fake.cloud_manager_client()
    client.session()
    client.session()
    fake.expire_all_sessions()
    assert client.get("sites").ok

    def value(metric: str, **attributes: str) -> float:
        for p in recorded.points(metric):
            if all(p.attributes.get(k) == v for k, v in attributes.items()):
                return float(p.value)
        raise AssertionError(f"no {metric} point with {attributes}")

    assert value("tableau_connected_auth.sign_ins", **{
        "tableau.service": "cloud_manager", "tableau.sign_in.method": "personal_access_token",
        "tableau.sign_in.outcome": "ok"}) == 2
    assert value("tableau_connected_auth.re_sign_ins_after_dead_session") == 1
    assert value("tableau_connected_auth.cache.hits", **{"tableau.cache": "memory"}) == tca.stats()["memory"]["hits"] >= 2
    assert value("tableau_connected_auth.sign_in_waits") == 2


def test_uninstrument_stops_spans_and_metrics(fake: FakeTableau, recorded: Recorded) -> None:
    telemetry.uninstrument()
    fake.client().session()
    time.sleep(0.1)
    assert recorded.spans.get_finished_spans() == ()
    assert recorded.points("tableau_connected_auth.sign_ins") == []


def test_instrument_without_opentelemetry_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_otel(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("opentelemetry"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_otel)
    with pytest.raises(tca.ConfigurationError, match="pip install opentelemetry-api"):
        telemetry.instrument()
    stats: Dict[str, Any] = dict(tca.stats())
    assert "sign_ins" in stats
