#!/usr/bin/env bash
# Runs once, when the PostgreSQL data volume is first initialised (the official image runs
# /docker-entrypoint-initdb.d/*.sh as the superuser). One database per service, each owned by a
# role of its own with its own password, and closed to every other role: a service's
# credentials open its own database and no other, as DESIGN.md's "no service reads another's
# database" requires. The registry's database is the only one that holds personal data.
#
# SINERGI_DATABASES lists the databases (default: the five services); each needs a password in
# <NAME>_DB_PASSWORD, e.g. REGISTRY_DB_PASSWORD. Passwords go into database URLs, so use URL-safe
# ones (openssl rand -hex 24).
set -euo pipefail

databases="${SINERGI_DATABASES:-gateway registry opportunities matching reporting}"

for name in $databases; do
  variable="$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
  password="${!variable:-}"
  if [ -z "$password" ]; then
    echo "postgres-init: $variable is not set; refusing to create database $name without a password" >&2
    exit 1
  fi
  # psql variables (:"name", :'password') quote identifiers and literals, so no value is ever
  # spliced into SQL text.
  psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v name="$name" -v password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
  echo "postgres-init: database $name created, owned by role $name"
done
