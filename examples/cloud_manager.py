"""One unified access token (UAT) configuration, two sessions side by side: Tableau Cloud Manager
(tenant administration) and a site's REST API.

Run it: ``python examples/cloud_manager.py``. Without ``TABLEAU_SERVER`` it runs against a
FakeTableau (which serves both APIs). For your Tableau Cloud set ``TABLEAU_SERVER`` (your pod),
``TABLEAU_SITE``, ``TABLEAU_USERNAME`` (a cloud administrator, as the configuration's username
claim names them), ``TABLEAU_UAT_ISSUER``, ``TABLEAU_UAT_KEY_ID``, ``TABLEAU_UAT_TENANT_ID`` and
``TABLEAU_UAT_PRIVATE_KEY_FILE``; the configuration must list the tenant and the site among its
resources and allow the scopes below.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Dict

import tableau_connected_auth as tca

if TYPE_CHECKING:
    from tableau_connected_auth.testing import FakeTableau

TCM_SCOPES = ["tableau:tcm_sites:read"]
SITE_SCOPES = ["tableau:content:read"]


def main() -> Dict[str, int]:
    env = os.environ
    with open(env["TABLEAU_UAT_PRIVATE_KEY_FILE"], encoding="utf-8") as f:
        private_key = f.read()
    # cell 1: the one configuration both sessions come from
    uat = tca.UnifiedAccessToken(
        issuer=env["TABLEAU_UAT_ISSUER"],
        key_id=env["TABLEAU_UAT_KEY_ID"],
        private_key=private_key,
        tenant_id=env["TABLEAU_UAT_TENANT_ID"],
    )
    user = env["TABLEAU_USERNAME"]

    # cell 2: Tableau Cloud Manager: the tenant's sites, page by page
    tcm_url = env.get("TABLEAU_CLOUD_MANAGER_URL", "https://cloudmanager.tableau.com")
    with tca.CloudManagerClient(tcm_url, credentials=uat.credentials(user, scopes=TCM_SCOPES)) as tcm:
        session = tcm.session()
        print(f"Tableau Cloud Manager: tenant {session.tenant_id}, {session!r}")
        sites = list(tcm.paginate("sites", page_size=50))
        print(f"  {len(sites)} sites: {', '.join(s.get('contentUrl') or '(default)' for s in sites[:5])} ...")

    # cell 3: the same configuration signs in to one of those sites (REST API 3.27+)
    with tca.Client(
        env["TABLEAU_SERVER"],
        site=env["TABLEAU_SITE"],
        api_version="3.27",
        credentials=uat.credentials(user, scopes=SITE_SCOPES),
    ) as client:
        workbooks = list(client.paginate("workbooks"))
        print(f"site {client.site!r}: {len(workbooks)} workbooks, {client.session()!r}")
    return {"sites": len(sites), "workbooks": len(workbooks)}


def _stand_in_keys(fake: FakeTableau, directory: str) -> Dict[str, str]:
    """An RSA key registered as one UAT configuration for the fake's tenant and its site."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    path = os.path.join(directory, "uat.pem")
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    issuer = "https://idp.example.com/uat"
    fake.add_cloud_manager_uat_configuration(issuer, public)
    fake.add_uat_configuration(issuer, public, fake.tenant_id, site=fake.site)
    fake.add_cloud_manager_user(fake.username)  # the site's user administers the tenant too
    return {
        "TABLEAU_CLOUD_MANAGER_URL": fake.url,
        "TABLEAU_UAT_ISSUER": issuer,
        "TABLEAU_UAT_KEY_ID": "uat-key-1",
        "TABLEAU_UAT_TENANT_ID": fake.tenant_id,
        "TABLEAU_UAT_PRIVATE_KEY_FILE": path,
    }


def _run() -> None:
    import tempfile

    from _stand_in import tableau_or_stand_in

    with tableau_or_stand_in() as fake, tempfile.TemporaryDirectory() as directory:
        if fake is None:
            main()
            return
        os.environ.update(_stand_in_keys(fake, directory))
        counts = main()
        stats = fake.stats()
        assert counts["sites"] >= 2 and counts["workbooks"] > 0, counts
        # One sign-in each, counted apart; both signed out on leaving their blocks.
        assert stats["cloud_manager_sign_ins"] == 1 and stats["sign_ins"] == 1, stats
        assert stats["cloud_manager_sign_outs"] == 1 and stats["sign_outs"] == 1, stats


if __name__ == "__main__":
    _run()
