"""Embedding: mint a connected-app JWT for Tableau's Embedding API v3 (``<tableau-viz token>``).

Each page view needs a fresh JWT (Tableau refuses a ``jti`` it has seen); mint it on your
server, never in the browser, for the user who is looking.
"""

from __future__ import annotations

import html
import os

import tableau_connected_auth as tca


def viz_html(app: tca.ConnectedApp, username: str, view_url: str, region: str) -> str:
    """The HTML of one embedded view, signed in as ``username`` with a row-level attribute."""
    token = app.jwt(
        username,
        scopes=["tableau:views:embed"],
        lifetime=300,  # seconds; Tableau accepts at most 10 minutes
        user_attributes={"Region": region},  # read in the workbook with USERATTRIBUTE("Region")
    )
    return f'<tableau-viz src="{html.escape(view_url)}" token="{token}"></tableau-viz>'


def main() -> None:
    app = tca.ConnectedApp(
        client_id=os.environ["TABLEAU_CLIENT_ID"],
        secret_id=os.environ["TABLEAU_SECRET_ID"],
        secret_value=os.environ["TABLEAU_SECRET_VALUE"],
    )
    view = f"{os.environ['TABLEAU_SERVER']}/t/{os.environ['TABLEAU_SITE']}/views/Superstore/Overview"
    page = viz_html(app, os.environ["TABLEAU_USERNAME"], view, region="East")
    print(page[: page.index('token="') + 7] + "…")  # never print a whole JWT in a log


if __name__ == "__main__":
    from _stand_in import tableau_or_stand_in

    with tableau_or_stand_in() as fake:
        main()
        if fake is not None:
            # The stand-in checks the JWT as Tableau would (signature, kid/iss, aud, sub, exp,
            # jti, scp): sign in with one to prove it.
            app = fake.connected_app
            token = app.jwt(fake.username, scopes=["tableau:views:embed"], user_attributes={"Region": "East"})
            client = tca.Client(fake.url, site=fake.site, credentials=tca.Jwt(token))
            print("the stand-in accepted the JWT:", client.sign_in())
            client.sign_out()
