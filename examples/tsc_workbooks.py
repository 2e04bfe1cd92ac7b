"""tableauserverclient (TSC) with our connected-app sign-in and session cache.

``tsc.server(client)`` returns a ``tableauserverclient.Server`` already signed in with the
client's session: TSC never signs in itself. Needs ``pip install tableau_connected_auth[tsc]``.
"""

from __future__ import annotations

import tableauserverclient as TSC

import tableau_connected_auth as tca
from tableau_connected_auth import tsc


def main() -> None:
    with tca.Client.from_env() as client:  # signs out when the block ends
        server = tsc.server(client)
        workbooks, pagination = server.workbooks.get()
        print(f"{pagination.total_available} workbooks:", ", ".join(w.name or "" for w in workbooks))
        for workbook in TSC.Pager(server.workbooks):  # all pages
            print(f"  {workbook.name} (project {workbook.project_name})")


if __name__ == "__main__":
    from _stand_in import tableau_or_stand_in

    with tableau_or_stand_in() as fake:
        main()
        if fake is not None:
            assert fake.stats()["sign_ins"] == 1, fake.stats()
