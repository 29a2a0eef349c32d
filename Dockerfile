# Image for the production stack in docker-compose.yaml: Airflow 3 (CeleryExecutor) with Mimamori installed.
FROM python:3.11.13-slim-bookworm
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1 AIRFLOW_HOME=/opt/airflow MIMAMORI_HOME=/data/mimamori
WORKDIR /opt/mimamori
# Exactly the locked versions (requirements/runtime.lock, made by `make lock`: the product with its
# `production` extra, the FAB auth manager for Airflow sign-in), then the project itself without resolving
# anything again; the synthetic town (demo/) is not installed.
COPY . .
RUN pip install --no-deps -r requirements/runtime.lock && pip install --no-deps . \
    && useradd --create-home --uid 50000 mimamori \
    && mkdir -p /data/mimamori /opt/airflow/logs \
    && chown -R mimamori /data/mimamori /opt/airflow
USER mimamori
# Docker secrets reach the processes as environment variables (VAR_FILE=/run/secrets/x becomes VAR).
ENTRYPOINT ["/opt/mimamori/deploy/entrypoint.sh"]
CMD ["airflow", "version"]
