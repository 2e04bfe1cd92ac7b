# mypy: disable-error-code="import-not-found, untyped-decorator"
# (for type checks where apache-airflow is not installed; with it, airflow.sdk is typed)
"""Airflow: a DAG whose task signs in with a "Tableau (Connected App)" connection.

Create the connection in the UI (Admin > Connections > Tableau (Connected App)), or as
``AIRFLOW_CONN_TABLEAU='{"conn_type": "tableau_connected_app", "host": "10ay.online.tableau.com",
"login": "me@example.com", "password": "<secret value>", "extra": {"site": "mysite",
"client_id": "...", "secret_id": "...", "scopes": "tableau:content:read"}}'``.
Run it here: ``python examples/airflow_dag.py`` (needs apache-airflow; runs the task's function
against a FakeTableau, no scheduler).
"""

from __future__ import annotations

from airflow.sdk import dag, task

from tableau_connected_auth.airflow import TableauConnectedAppHook


@task
def count_workbooks(tableau_conn_id: str = "tableau") -> int:
    """The number of workbooks on the connection's site."""
    client = TableauConnectedAppHook(tableau_conn_id, wire_format="json").get_conn()
    response = client.get("workbooks", params={"pageSize": 1})  # signs in once per process
    response.raise_for_status()
    return int(response.json()["pagination"]["totalAvailable"])


@dag(schedule=None, catchup=False, tags=["tableau"])
def tableau_workbooks() -> None:
    """Counts the workbooks, on demand."""
    count_workbooks()


tableau_workbooks()


if __name__ == "__main__":
    import json
    import os

    from tableau_connected_auth.testing import FakeTableau

    with FakeTableau() as fake:  # stands in for Tableau; the connection points at it
        os.environ["AIRFLOW_CONN_TABLEAU"] = json.dumps(
            {
                "conn_type": "tableau_connected_app",
                "host": fake.url,
                "login": fake.username,
                "password": fake.app_secret_value,
                "extra": {
                    "site": fake.site,
                    "client_id": fake.app_client_id,
                    "secret_id": fake.app_secret_id,
                    "scopes": "tableau:content:read",
                },
            }
        )
        print("workbooks:", count_workbooks.function())
        assert fake.stats()["sign_ins"] == 1
