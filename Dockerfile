# Image for the production stack in docker-compose.yaml: Airflow 3 (CeleryExecutor) with Mimamori installed.
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1 AIRFLOW_HOME=/opt/airflow MIMAMORI_HOME=/data/mimamori
WORKDIR /opt/mimamori
# The project's own dependencies include Airflow, the Celery provider, the Redis client and psycopg; the
# `production` extra adds the FAB auth manager (Airflow sign-in with users and roles).
COPY . .
RUN pip install --upgrade pip && pip install .[production] \
    && useradd --create-home --uid 50000 mimamori \
    && mkdir -p /data/mimamori /opt/airflow/logs \
    && chown -R mimamori /data/mimamori /opt/airflow
USER mimamori
# Docker secrets reach the processes as environment variables (VAR_FILE=/run/secrets/x becomes VAR).
ENTRYPOINT ["/opt/mimamori/deploy/entrypoint.sh"]
CMD ["airflow", "version"]
