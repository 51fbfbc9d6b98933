#!/usr/bin/env bash
# Migration checks on one database: upgrade head, no drift between the models and the migrations
# (alembic check), then a full downgrade/upgrade round trip.
set -euo pipefail
url=$1
alembic=${ALEMBIC:-.venv/bin/alembic}
export DATABASE_URL=$url
"$alembic" upgrade head
"$alembic" check
"$alembic" downgrade base
"$alembic" upgrade head
