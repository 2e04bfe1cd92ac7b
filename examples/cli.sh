#!/usr/bin/env bash
# The tableau-auth command, end to end against a FakeTableau on 127.0.0.1.
# Run it: bash examples/cli.sh (with the package installed, so tableau-auth is on PATH).
set -euo pipefail
WORK="$(mktemp -d)"
cd "$WORK"

tableau-auth fake --env-file fake.env &   # a Tableau stand-in, serving until stopped
FAKE=$!
trap 'kill $FAKE && wait $FAKE; rm -rf "$WORK"' EXIT
while [ ! -f fake.env ]; do sleep 0.1; done
. ./fake.env                              # exports TABLEAU_SERVER, TABLEAU_SITE, TABLEAU_CLIENT_ID, ...

tableau-auth whoami                       # who and where; the token is masked
tableau-auth whoami --json | jq -r .user.name

TOKEN="$(tableau-auth token)"             # the one command that prints a session token
curl -sf -H "X-Tableau-Auth: $TOKEN" "$TABLEAU_SERVER/api/3.24/sessions/current" >/dev/null

JWT="$(tableau-auth jwt --scopes tableau:views:embed --attribute Region=East)"
echo "minted a JWT of ${#JWT} characters"

tableau-auth whoami --site no-such-site || echo "exit code $? (1: Tableau said no)"
env -u TABLEAU_SERVER tableau-auth whoami || echo "exit code $? (2: configuration)"
