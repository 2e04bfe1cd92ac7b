"""TABLEAU_* environment variables that point at a FakeTableau (for from_env and CLI tests)."""

from __future__ import annotations

from typing import Dict

from tableau_connected_auth.testing import FakeTableau


def fake_env(fake: FakeTableau) -> Dict[str, str]:
    return {
        "TABLEAU_SERVER": fake.url,
        "TABLEAU_SITE": fake.site,
        "TABLEAU_CLIENT_ID": fake.app_client_id,
        "TABLEAU_SECRET_ID": fake.app_secret_id,
        "TABLEAU_SECRET_VALUE": fake.app_secret_value,
        "TABLEAU_USERNAME": fake.username,
        "TABLEAU_SCOPES": "tableau:content:read",
    }
