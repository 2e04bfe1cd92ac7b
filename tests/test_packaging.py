"""What is under test: the development build, or (scripts/build-wheels.sh) an installed wheel."""

from __future__ import annotations

import importlib.machinery
import os
from pathlib import Path

import pytest

import tableau_connected_auth as tca
from tableau_connected_auth import _core


@pytest.mark.skipif(not os.environ.get("TCA_TEST_INSTALLED_WHEEL"), reason="only when testing an installed wheel")
def test_the_installed_wheel_is_what_runs() -> None:
    for module in (tca, _core):
        path = Path(module.__file__ or "")
        assert "site-packages" in path.parts, path
    name = Path(_core.__file__ or "").name
    assert any(name.endswith(suffix) for suffix in importlib.machinery.EXTENSION_SUFFIXES), name
