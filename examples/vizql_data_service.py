"""VizQL Data Service on the REST session: read a published data source's fields, then query
it (aggregated, grouped) with ``client.vds``.

Run it: ``python examples/vizql_data_service.py`` (against a FakeTableau unless TABLEAU_SERVER
is set; then TABLEAU_DATASOURCE_LUID names the data source). With a connected app, the JWT
needs ``tableau:viz_data_service:read``; without it, the call raises MissingScopeError naming it.
"""

from __future__ import annotations

import os

import tableau_connected_auth as tca

SCOPES = ["tableau:content:read", "tableau:viz_data_service:read"]


def main(datasource: str) -> None:
    with tca.Client.from_env(scopes=SCOPES) as client:
        # cell 1: the fields
        for field in client.vds("read-metadata", datasource)["data"]:
            print(f"{field['fieldCaption']:>14}  {field['dataType']}")

        # cell 2: total sales per region, largest first
        query = {
            "fields": [
                {"fieldCaption": "Region"},
                {"fieldCaption": "Sales", "function": "SUM", "fieldAlias": "Total sales",
                 "sortDirection": "DESC", "sortPriority": 1},
            ]
        }
        try:
            rows = client.vds("query-datasource", datasource, query=query)["data"]
        except tca.TableauApiError as e:  # 403800: no API Access capability; 400804: too large
            print(e.code, e.hint)
            raise
        for row in rows:
            print(f"{row['Region']:>8}  {row['Total sales']:12,.2f}")


if __name__ == "__main__":
    from _stand_in import tableau_or_stand_in

    with tableau_or_stand_in() as fake:
        main(fake.datasource_id if fake is not None else os.environ["TABLEAU_DATASOURCE_LUID"])
        if fake is not None:
            assert fake.stats()["vds"] == 2 and fake.stats()["sign_ins"] == 1, fake.stats()
