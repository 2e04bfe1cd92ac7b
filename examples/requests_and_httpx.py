"""requests and httpx with our sign-in: ``client.requests_auth()`` and ``client.httpx_auth()``.

Each adds ``X-Tableau-Auth`` with the cached session and, when Tableau answers 401 (the
session died), drops the session, signs in again and retries the request once.
Needs ``pip install tableau_connected_auth[requests,httpx]``.
"""

from __future__ import annotations

import asyncio

import httpx
import requests

import tableau_connected_auth as tca


def with_requests(client: tca.Client) -> int:
    http = requests.Session()
    http.auth = client.requests_auth()
    url = client.session().url("workbooks")  # .../api/3.24/sites/{site_id}/workbooks
    return http.get(url, params={"pageSize": 10}, timeout=30).status_code


def with_httpx(client: tca.Client) -> int:
    # http_client(): an httpx.Client whose event hook keeps the token off redirects elsewhere.
    with client.httpx_auth().http_client(timeout=30, follow_redirects=True) as http:
        status: int = http.get(client.session().url("workbooks")).status_code
        return status


async def with_httpx_async(aclient: tca.AsyncClient) -> int:
    async with aclient.httpx_auth().async_http_client(timeout=30, follow_redirects=True) as http:
        session = await aclient.session()
        return (await http.get(session.url("workbooks"))).status_code


def main() -> None:
    client = tca.Client.from_env()
    print("requests:", with_requests(client))
    print("httpx:   ", with_httpx(client))
    print("async:   ", asyncio.run(with_httpx_async(tca.AsyncClient.from_env())))
    client.sign_out()


if __name__ == "__main__":
    from _stand_in import tableau_or_stand_in

    with tableau_or_stand_in() as fake:
        main()
        if fake is not None:
            # The session dies on the server: the next request gets a 401, signs in again and
            # is retried once, invisibly.
            client = tca.Client.from_env()
            assert with_requests(client) == 200
            fake.expire_all_sessions()
            assert with_requests(client) == 200
            fake.expire_all_sessions()
            assert with_httpx(client) == 200
            print("after two dead sessions:", fake.stats()["sign_ins"], "sign-ins in all")
