#!/bin/sh
# One-shot start of the stack (the `airflow-init` service), run through deploy/entrypoint.sh so that the
# docker secrets are variables here: Airflow's metadata schema and the FAB auth manager's tables, the
# warehouse schema, the pool every writer of the warehouse shares, and the Airflow administrator from
# the secrets (created once; its password is set from the secret on every start, so rotating it is:
# change AIRFLOW_ADMIN_PASSWORD in .env, `docker compose up -d airflow-init`).
set -eu
: "${AIRFLOW_ADMIN_USER:?set AIRFLOW_ADMIN_USER in .env}"
: "${AIRFLOW_ADMIN_PASSWORD:?the airflow_admin_password secret (AIRFLOW_ADMIN_PASSWORD in .env) is not set}"
airflow db migrate
airflow fab-db migrate
mimamori migrate
airflow pools set mimamori_warehouse 1 "Mimamori: one writer of the warehouse at a time"
if ! airflow users list --output plain | awk 'NR > 1 { print $2 }' | grep -qx "$AIRFLOW_ADMIN_USER"; then
    airflow users create --role Admin --username "$AIRFLOW_ADMIN_USER" \
        --email "${AIRFLOW_ADMIN_EMAIL:-$AIRFLOW_ADMIN_USER@localhost}" \
        --firstname Mimamori --lastname Admin --use-random-password
fi
airflow users reset-password --username "$AIRFLOW_ADMIN_USER" --password "$AIRFLOW_ADMIN_PASSWORD"
