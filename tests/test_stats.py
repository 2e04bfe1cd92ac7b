"""tca.stats(): the process-wide counters an operator watches. Each test starts from
reset_stats() and checks exact numbers for what it did."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau

from bursts import errors_of_a_burst


@pytest.fixture(autouse=True)
def zero() -> None:
    tca.reset_stats()


def outcomes(service: str, method: str) -> Dict[str, int]:
    return dict(tca.stats()["sign_ins"][service][method])


def test_every_method_and_outcome_is_listed_with_zeros() -> None:
    s = tca.stats()
    assert set(s["sign_ins"]) == {"site", "cloud_manager"}
    for service in s["sign_ins"].values():
        assert set(service) == {
            "connected_app", "external_authorization_server", "unified_access_token", "jwt",
            "personal_access_token", "password",
        }
        assert all(o == {"ok": 0, "refused": 0, "failed": 0} for o in service.values())
    assert s["memory"] == s["disk"] == s["redis"] == {"hits": 0, "misses": 0}
    assert (s["sign_in_waits"], s["sign_in_wait_seconds"], s["rate_limited"]) == (0, 0.0, 0)


def test_sign_ins_are_counted_by_method_and_outcome(fake: FakeTableau) -> None:
    tca.Client(fake.url, site=fake.site, credentials=fake.pat).session()
    with pytest.raises(tca.SignInError):
        tca.Client(fake.url, site=fake.site, credentials=tca.PersonalAccessToken(fake.pat_name, "nope")).session()
    with pytest.raises(tca.TransportError):
        tca.Client("http://127.0.0.1:9", site="", credentials=fake.pat, retries=0).session()
    fake.client().session()
    fake.cloud_manager_client().session()
    assert outcomes("site", "personal_access_token") == {"ok": 1, "refused": 1, "failed": 1}
    assert outcomes("site", "connected_app") == {"ok": 1, "refused": 0, "failed": 0}
    assert outcomes("cloud_manager", "personal_access_token") == {"ok": 1, "refused": 0, "failed": 0}
    # What the fake saw agrees.
    assert fake.stats()["sign_ins"] == 2 and fake.stats()["cloud_manager_sign_ins"] == 1


def test_memory_hits_misses_and_waits(fake: FakeTableau) -> None:
    client = fake.client()
    client.session()  # a miss: signs in, waits for it
    for _ in range(5):
        client.session()  # hits
    assert client.get("workbooks").ok  # a hit inside request()
    s = tca.stats()
    assert s["memory"] == {"hits": 6, "misses": 1}
    assert s["sign_in_waits"] == 1 and s["sign_in_wait_seconds"] > 0


def test_a_burst_after_a_dead_session_is_one_re_sign_in(fake: FakeTableau) -> None:
    client = fake.client()
    client.session()
    fake.expire_all_sessions()
    assert errors_of_a_burst(20, lambda: client.get("workbooks").raise_for_status()) == []
    s = tca.stats()
    assert s["re_sign_ins_after_dead_session"] == 1
    assert s["refreshes_ahead_of_expiry"] == 0
    assert outcomes("site", "connected_app")["ok"] == 2 == fake.stats()["sign_ins"]


def test_a_refresh_ahead_of_expiry_is_counted(fake: FakeTableau) -> None:
    client = fake.client(max_session_age=0.3)
    first = client.session()
    time.sleep(0.4)
    assert client.session().token != first.token
    s = tca.stats()
    assert (s["refreshes_ahead_of_expiry"], s["re_sign_ins_after_dead_session"]) == (1, 0)


def test_429s_and_the_time_waited_for_them(fake: FakeTableau) -> None:
    fake.rate_limit_next(times=1, retry_after=1)
    fake.client().session()
    s = tca.stats()
    assert (s["rate_limited"], s["rate_limit_waits"]) == (1, 1)
    assert s["rate_limit_wait_seconds"] == 1.0
    fake.rate_limit_next(times=1, retry_after=3600)
    with pytest.raises(tca.RateLimitedError):
        fake.client(cache=None).session()  # longer than rate_limit_max_wait: not waited
    s = tca.stats()
    assert (s["rate_limited"], s["rate_limit_waits"]) == (2, 1)


_CHILD = """
import json, sys
import tableau_connected_auth as tca
pat = tca.PersonalAccessToken(sys.argv[3], sys.argv[4])
client = tca.Client(sys.argv[1], site="mysite", credentials=pat, cache=tca.DiskCache(sys.argv[2]))
client.session()
print(json.dumps(tca.stats()))
"""


def child_stats(fake: FakeTableau, path: Path) -> Dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, fake.url, str(path), fake.pat_name, fake.pat_secret],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout
    stats: Dict[str, Any] = json.loads(out)
    return stats


def test_disk_hits_and_misses_are_counted_where_they_happen(fake: FakeTableau, tmp_path: Path) -> None:
    first = child_stats(fake, tmp_path)
    assert first["disk"] == {"hits": 0, "misses": 1}
    assert first["sign_ins"]["site"]["personal_access_token"]["ok"] == 1
    second = child_stats(fake, tmp_path)
    assert second["disk"] == {"hits": 1, "misses": 0}
    assert second["sign_ins"]["site"]["personal_access_token"]["ok"] == 0
    assert fake.stats()["sign_ins"] == 1
    # This process did none of that.
    assert tca.stats()["disk"] == {"hits": 0, "misses": 0}


def test_reset_and_types(fake: FakeTableau) -> None:
    fake.client().session()
    assert tca.stats()["memory"]["misses"] == 1
    tca.reset_stats()
    s = tca.stats()
    assert s["memory"] == {"hits": 0, "misses": 0} and s["sign_in_waits"] == 0
    numbers: List[Any] = [s["refreshes_ahead_of_expiry"], s["rate_limited"], s["sign_in_waits"]]
    assert all(isinstance(n, int) for n in numbers)
    assert isinstance(s["sign_in_wait_seconds"], float)
