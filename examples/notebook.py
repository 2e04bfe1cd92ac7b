"""In a notebook: configured from the environment, one sign-in per kernel.

Run it: ``python examples/notebook.py`` (against a FakeTableau unless TABLEAU_SERVER is set).
"""

from __future__ import annotations

import asyncio
from typing import List

import tableau_connected_auth as tca


def workbook_names(client: tca.Client) -> List[str]:
    """The names of the site's workbooks (first page), with the client's cached session."""
    response = client.get("workbooks", params={"pageSize": 100})
    response.raise_for_status()
    return [w["name"] for w in response.json()["workbooks"].get("workbook", [])]


async def statuses(aclient: tca.AsyncClient) -> List[int]:
    """Two calls at once; in a notebook cell, ``await`` works at top level."""
    responses = await asyncio.gather(aclient.get("workbooks"), aclient.get("workbooks"))
    return [r.status for r in responses]


def main() -> None:
    # cell 1: TABLEAU_SERVER, TABLEAU_SITE, TABLEAU_CLIENT_ID, ... come from the environment
    client = tca.Client.from_env(wire_format="json")
    print(client.session())  # signs in; the token is masked: token=***

    # cell 2: re-running a cell does not sign in again: the session is cached per process
    print(workbook_names(client))
    print(workbook_names(client))

    # cell 3: asyncio shares the same session cache
    aclient = tca.AsyncClient.from_env(wire_format="json")
    print(asyncio.run(statuses(aclient)))  # in a notebook: await statuses(aclient)

    # last cell
    client.sign_out()


if __name__ == "__main__":
    from _stand_in import tableau_or_stand_in

    with tableau_or_stand_in() as fake:
        main()
        if fake is not None:
            assert fake.stats()["sign_ins"] == 1, fake.stats()
