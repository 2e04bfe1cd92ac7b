"""OpenTelemetry for tableau_connected_auth: a span per sign-in and per ``request()``, and the
counters of :func:`tableau_connected_auth.stats` as metrics. Optional: it needs
``opentelemetry-api`` (and an SDK or a distro to export anything), and does nothing until you
opt in::

    from tableau_connected_auth import telemetry

    telemetry.instrument()          # the global tracer and meter providers, or pass your own
    ...
    telemetry.uninstrument()

Spans:

- ``tableau.sign_in`` (kind CLIENT): ``tableau.service`` (``site`` or ``cloud_manager``),
  ``server.address`` (the host), ``server.port``, ``tableau.site``, ``tableau.sign_in.method``,
  ``tableau.sign_in.outcome``.
- ``tableau.request`` (kind CLIENT), one per ``request()``/``get()``/``post()`` and per page of
  ``paginate()`` (a re-sign-in after a dead session is inside it): ``http.request.method``,
  ``url.path`` (never the query), ``http.response.status_code``, ``server.address``,
  ``server.port``, ``tableau.site``.
- A failure sets the span's status to ERROR and ``error.type`` to the exception's name. No
  attribute ever holds a token, a JWT, a secret or a query string.

The work runs on the library's own threads, so the spans carry their real start and end times
but are not children of the caller's current span. They reach Python as DEBUG records of the
logger ``tableau_connected_auth.telemetry`` (which does not propagate to yours), the path every
record of the Rust core takes without stalling its runtime.

Metrics (observable counters read from :func:`tableau_connected_auth.stats` at each
collection): ``tableau_connected_auth.sign_ins`` (by ``tableau.service``,
``tableau.sign_in.method``, ``tableau.sign_in.outcome``),
``tableau_connected_auth.refreshes_ahead_of_expiry``,
``tableau_connected_auth.re_sign_ins_after_dead_session``,
``tableau_connected_auth.cache.hits`` and ``.cache.misses`` (by ``tableau.cache``: memory,
disk, redis), ``tableau_connected_auth.sign_in_waits``, ``tableau_connected_auth.sign_in_wait``
(s), ``tableau_connected_auth.rate_limited`` and ``tableau_connected_auth.rate_limit_wait`` (s).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Callable, Iterable, List, Mapping, Optional, Tuple

from . import _core
from .exceptions import ConfigurationError

__all__ = ["instrument", "uninstrument", "LOGGER"]

LOGGER = "tableau_connected_auth.telemetry"
"""The logger the telemetry records travel through."""

_lock = threading.Lock()
_handler: Optional["_SpanHandler"] = None
_metrics_on = False
_meters: List[Any] = []  # meters that have their instruments (kept, so none is made twice)


class _SpanHandler(logging.Handler):
    """Turns each telemetry record into a finished span."""

    def __init__(self, tracer: Any) -> None:
        super().__init__(logging.DEBUG)
        self.tracer = tracer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            event = json.loads(record.getMessage())
        except ValueError:
            return
        from opentelemetry.trace import SpanKind, Status, StatusCode

        attributes = {k: v for k, v in event.get("attributes", {}).items() if v is not None and v != ""}
        span = self.tracer.start_span(
            event["name"], kind=SpanKind.CLIENT, start_time=int(event["start_ns"]), attributes=attributes
        )
        if event.get("error"):
            span.set_attribute("error.type", event["error"])
            span.set_status(Status(StatusCode.ERROR, event["error"]))
        span.end(end_time=int(event["end_ns"]))


def _observations(read: Callable[[Mapping[str, Any]], Iterable[Tuple[float, Mapping[str, str]]]]) -> Callable[[Any], List[Any]]:
    from opentelemetry.metrics import Observation

    def callback(options: Any) -> List[Any]:
        if not _metrics_on:
            return []
        return [Observation(value, attributes) for value, attributes in read(_core.stats())]

    return callback


def _sign_ins(s: Mapping[str, Any]) -> Iterable[Tuple[float, Mapping[str, str]]]:
    for service, methods in s["sign_ins"].items():
        for method, outcomes in methods.items():
            for outcome, n in outcomes.items():
                yield n, {"tableau.service": service, "tableau.sign_in.method": method, "tableau.sign_in.outcome": outcome}


def _cache(which: str) -> Callable[[Mapping[str, Any]], Iterable[Tuple[float, Mapping[str, str]]]]:
    return lambda s: [(s[cache][which], {"tableau.cache": cache}) for cache in ("memory", "disk", "redis")]


def _one(key: str) -> Callable[[Mapping[str, Any]], Iterable[Tuple[float, Mapping[str, str]]]]:
    return lambda s: [(s[key], {})]


def _make_meters(meter: Any) -> None:
    prefix = "tableau_connected_auth."
    counters: List[Tuple[str, Callable[[Mapping[str, Any]], Iterable[Tuple[float, Mapping[str, str]]]], str, str]] = [
        ("sign_ins", _sign_ins, "{sign-in}", "sign-ins by service, method and outcome"),
        ("refreshes_ahead_of_expiry", _one("refreshes_ahead_of_expiry"), "{sign-in}", "sign-ins that refreshed a session before it expired"),
        ("re_sign_ins_after_dead_session", _one("re_sign_ins_after_dead_session"), "{sign-in}", "sign-ins that replaced a session dropped as dead (a 401, or invalidate())"),
        ("cache.hits", _cache("hits"), "{lookup}", "session lookups answered by a cache"),
        ("cache.misses", _cache("misses"), "{lookup}", "session lookups a cache could not answer"),
        ("sign_in_waits", _one("sign_in_waits"), "{wait}", "callers that waited on a sign-in"),
        ("sign_in_wait", _one("sign_in_wait_seconds"), "s", "time callers spent waiting on sign-ins"),
        ("rate_limited", _one("rate_limited"), "{response}", "429 answers from Tableau"),
        ("rate_limit_wait", _one("rate_limit_wait_seconds"), "s", "time waited before retrying after a 429"),
    ]
    for name, read, unit, description in counters:
        meter.create_observable_counter(prefix + name, callbacks=[_observations(read)], unit=unit, description=description)


def instrument(*, tracer_provider: Any = None, meter_provider: Any = None) -> None:
    """Start recording spans and metrics (the global providers unless given). Calling it again
    replaces the tracer; each meter provider gets its instruments once."""
    global _handler, _metrics_on
    try:
        from opentelemetry import metrics, trace
    except ImportError:
        raise ConfigurationError(
            "telemetry needs OpenTelemetry: pip install opentelemetry-api (and opentelemetry-sdk to export)"
        ) from None
    from . import __version__

    tracer = trace.get_tracer("tableau_connected_auth", __version__, tracer_provider=tracer_provider)
    meter = metrics.get_meter("tableau_connected_auth", __version__, meter_provider=meter_provider)
    with _lock:
        logger = logging.getLogger(LOGGER)
        if _handler is not None:
            logger.removeHandler(_handler)
        _handler = _SpanHandler(tracer)
        logger.addHandler(_handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        if not any(m is meter for m in _meters):
            _make_meters(meter)
            _meters.append(meter)
        _metrics_on = True
        _core.set_telemetry(True)


def uninstrument() -> None:
    """Stop recording: no more spans, and the metrics report nothing."""
    global _handler, _metrics_on
    with _lock:
        _core.set_telemetry(False)
        _metrics_on = False
        if _handler is not None:
            logging.getLogger(LOGGER).removeHandler(_handler)
            _handler = None
