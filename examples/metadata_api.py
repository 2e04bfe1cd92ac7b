"""The Metadata API (GraphQL) on the REST session: ``client.graphql`` and
``client.graphql_paginate`` (a connection, page by page, with ``first``/``after``).

Run it: ``python examples/metadata_api.py`` (against a FakeTableau unless TABLEAU_SERVER is
set). With a connected app, the JWT needs ``tableau:content:read``.
"""

from __future__ import annotations

import tableau_connected_auth as tca

WORKBOOKS = """
query workbooks($after: String) {
  workbooksConnection(first: 100, after: $after) {
    nodes { name projectName }
    pageInfo { hasNextPage endCursor }
  }
}"""


def main() -> None:
    with tca.Client.from_env() as client:
        # cell 1: one query; GraphQL errors raise MetadataApiError (with .errors and .codes)
        data = client.graphql("query($name: String) { publishedDatasources(filter: {name: $name}) { name luid } }",
                              {"name": "Superstore Datasource"})
        print(data["publishedDatasources"])

        # cell 2: every workbook, a page of 100 at a time
        try:
            names = [wb["name"] for wb in client.graphql_paginate(WORKBOOKS, connection="workbooksConnection")]
        except tca.MetadataApiError as e:  # e.g. FEATURE_DISABLED on a Server without it
            print(e.codes, e)
            raise
        print(f"{len(names)} workbooks, e.g. {names[:3]}")


if __name__ == "__main__":
    from _stand_in import tableau_or_stand_in

    with tableau_or_stand_in() as fake:
        main()
        if fake is not None:
            assert fake.stats()["metadata_api"] == 2, fake.stats()
            assert fake.stats()["sign_ins"] == 1, fake.stats()
