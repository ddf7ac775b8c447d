#!/bin/sh
# Run once by the postgres image when its data volume is new (it runs the *.sh scripts of
# /docker-entrypoint-initdb.d with the container's environment): the role the application
# connects as, with the password compose passes in DB_APP_PASSWORD. The role owns nothing;
# `manage.py secure_database_role workflow_app` (run by the owner after each migrate) grants
# it ordinary access and append-only access to the audit.
: "${DB_APP_PASSWORD:?set DB_APP_PASSWORD: the password of the application's role}"
# psql quotes the password itself (:'app_password'), whatever characters it holds.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$DB_APP_PASSWORD" <<'SQL'
CREATE ROLE workflow_app LOGIN PASSWORD :'app_password';
SQL
