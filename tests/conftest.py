from __future__ import annotations

from typing import Iterator

import pytest

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau


@pytest.fixture
def fake() -> Iterator[FakeTableau]:
    with FakeTableau() as t:
        yield t


@pytest.fixture
def client(fake: FakeTableau) -> tca.Client:
    return fake.client()
