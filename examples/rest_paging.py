"""Every item of a REST list, page by page: ``client.paginate`` (and ``async for``).

Run it: ``python examples/rest_paging.py`` (against a FakeTableau unless TABLEAU_SERVER is set).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import List

import tableau_connected_auth as tca


def workbooks_per_project(client: tca.Client) -> Counter[str]:
    # cell 1: every workbook, 1000 per call (Tableau's largest page), following totalAvailable
    return Counter(wb["project"]["name"] for wb in client.paginate("workbooks", page_size=1000))


async def view_names(aclient: tca.AsyncClient) -> List[str]:
    # cell 2: the same with asyncio; a session that dies mid-list is replaced, no item repeats
    return [v["name"] async for v in aclient.paginate("views", page_size=100)]


def main() -> None:
    with tca.Client.from_env() as client:
        counts = workbooks_per_project(client)
        for project, n in counts.most_common():
            print(f"{n:4} workbooks in {project}")
        names = asyncio.run(view_names(tca.AsyncClient(client)))
        print(f"{len(names)} views, e.g. {names[:3]}")
        # cell 3: which scope a call needs, for a connected app's scopes=[...]
        print(tca.scopes_for("GET", "workbooks"))


if __name__ == "__main__":
    from _stand_in import tableau_or_stand_in

    with tableau_or_stand_in() as fake:
        if fake is not None:
            fake.add_workbooks(1200)  # more than one page of 1000
        main()
        if fake is not None:
            ids = fake.content_ids()
            assert fake.stats()["workbooks"] == 2, fake.stats()  # 1203 workbooks: two pages
            assert len(ids["workbooks"]) == 1203
            assert fake.stats()["sign_ins"] == 1, fake.stats()
