# Image for the production stack in docker-compose.yaml (Airflow 3 with Mimamori installed).
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 AIRFLOW_HOME=/opt/airflow
WORKDIR /opt/mimamori
COPY pyproject.toml README.md ./
COPY connectors connectors
COPY identity identity
COPY consent consent
COPY expectations expectations
COPY warehouse warehouse
COPY watchlist watchlist
COPY mimamori mimamori
COPY dags dags
RUN pip install --upgrade pip && pip install . "apache-airflow[celery,postgres]>=3.1,<3.4"
RUN useradd --create-home --uid 50000 mimamori && mkdir -p /data/mimamori /opt/airflow \
    && chown -R mimamori /data/mimamori /opt/airflow
USER mimamori
