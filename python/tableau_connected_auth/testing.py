"""Testing helpers: :class:`FakeTableau`, an in-process Tableau stand-in on 127.0.0.1.

It enforces Tableau's real sign-in rules (JWT signature, ``kid``/``iss``, ``aud``, known ``sub``,
single-use ``jti``, ``exp`` at most 10 minutes ahead, ``scp`` a list; one session per PAT), answers
in XML or JSON like Tableau, counts what it served, and can be told to misbehave.

Example::

    from tableau_connected_auth.testing import FakeTableau

    with FakeTableau() as tableau:
        client = tableau.client()            # a Client for the default app, user and site
        session = client.session()
        assert tableau.stats()["sign_ins"] == 1
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

from . import _core
from ._clients import Client, CloudManagerClient
from ._core import ConnectedApp, PersonalAccessToken
from ._env import CLOUD_MANAGER_VARIABLES, ENVIRONMENT_VARIABLES

__all__ = ["FakeTableau"]


class FakeTableau(_core.FakeTableau):
    """A running stand-in for Tableau; see the module docstring."""

    @property
    def connected_app(self) -> ConnectedApp:
        """The default connected app (registered, enabled, on "mysite" and the default site)."""
        return ConnectedApp(
            client_id=self.app_client_id, secret_id=self.app_secret_id, secret_value=self.app_secret_value
        )

    @property
    def pat(self) -> PersonalAccessToken:
        """The default personal access token of the default user on "mysite"."""
        return PersonalAccessToken(self.pat_name, self.pat_secret)

    def client(
        self,
        *,
        username: Optional[str] = None,
        scopes: Sequence[str] = ("tableau:content:read",),
        site: Optional[str] = None,
        **kwargs: Any,
    ) -> Client:
        """A :class:`Client` signed in (lazily) with the default connected app.

        Keyword arguments other than ``username``, ``scopes`` and ``site`` go to ``Client``.
        """
        credentials = self.connected_app.credentials(
            username if username is not None else self.username, scopes=list(scopes)
        )
        return Client(self.url, site=self.site if site is None else site, credentials=credentials, **kwargs)

    def environment(self) -> Dict[str, str]:
        """The ``TABLEAU_*`` variables that point ``Client.from_env()``, ``AsyncClient.from_env()``,
        ``CloudManagerClient.from_env()`` and ``tableau-auth`` at this fake: its default connected
        app, user and site (scope ``tableau:content:read``), and its Tableau Cloud Manager PAT.

        For example ``monkeypatch.setattr(os, "environ", {**os.environ, **fake.environment()})``,
        or ``subprocess.run([...], env={**os.environ, **fake.environment()})``.
        """
        site, tcm = ENVIRONMENT_VARIABLES, CLOUD_MANAGER_VARIABLES
        return {
            site["server"]: self.url,
            site["site"]: self.site,
            site["client_id"]: self.app_client_id,
            site["secret_id"]: self.app_secret_id,
            site["secret_value"]: self.app_secret_value,
            site["username"]: self.username,
            site["scopes"]: "tableau:content:read",
            tcm["server"]: self.url,
            tcm["pat_secret"]: self.cloud_manager_pat_secret,
        }

    @property
    def cloud_manager_pat(self) -> PersonalAccessToken:
        """The default Tableau Cloud Manager personal access token (of a cloud administrator).
        Its name is only a label: TCM's PAT login sends the secret alone."""
        return PersonalAccessToken("cloud-manager-pat", self.cloud_manager_pat_secret)

    def cloud_manager_client(self, **kwargs: Any) -> CloudManagerClient:
        """A :class:`CloudManagerClient` for this fake with the default TCM PAT (keyword
        arguments go to ``CloudManagerClient``)."""
        kwargs.setdefault("credentials", self.cloud_manager_pat)
        return CloudManagerClient(self.url, **kwargs)
