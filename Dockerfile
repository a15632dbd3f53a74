# The imagepool image: Airflow 3.3 with the project's locked dependencies, its DAGs, its library and
# the local Azure cloud. docker-compose.yaml runs every Airflow component and the emulator from it.
# The Python version is the one requirements.txt is compiled for (make lock).
FROM python:3.11-slim-bookworm

# curl: the compose healthchecks. uv: the same version the Makefile installs.
ARG UV_VERSION=0.13.9
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir uv==${UV_VERSION}

# Dependencies first: code changes then rebuild only the layers below. Bytecode is compiled here
# because the containers run as a user who cannot write it next to the sources.
ENV VIRTUAL_ENV=/opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /opt/imagepool/requirements.txt
RUN uv venv $VIRTUAL_ENV --python /usr/local/bin/python --quiet \
    && uv pip sync /opt/imagepool/requirements.txt --python $VIRTUAL_ENV/bin/python --compile-bytecode \
       --no-cache --quiet

# Airflow's home holds logs and what the containers share (secrets, passwords); /opt/emulator is the
# emulator's data dir. Both become named volumes, which take this ownership when first created.
RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home airflow \
    && mkdir -p /opt/airflow/logs /opt/airflow/shared /opt/emulator \
    && chown -R airflow:0 /opt/airflow /opt/emulator

COPY dags /opt/imagepool/dags
COPY plugins /opt/imagepool/plugins
COPY include /opt/imagepool/include

ENV AIRFLOW_HOME=/opt/airflow \
    PYTHONPATH=/opt/imagepool/include:/opt/imagepool/plugins \
    PYTHONUNBUFFERED=1
USER airflow
WORKDIR /opt/airflow
ENTRYPOINT ["python", "-m", "imagepool_local.container"]
CMD ["airflow", "version"]
