"""TABLEAU_* environment variables that point at a FakeTableau (for from_env and CLI tests)."""

from __future__ import annotations

from typing import Dict

from tableau_connected_auth.testing import FakeTableau


def fake_env(fake: FakeTableau) -> Dict[str, str]:
    """The site's variables of ``fake.environment()`` (without Tableau Cloud Manager's)."""
    return {k: v for k, v in fake.environment().items() if not k.startswith("TABLEAU_CLOUD_MANAGER_")}
