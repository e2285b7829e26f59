# The CryptoLake image of compose.yaml's worker, beat and bootstrap services: the Python packages
# and a Java 17 runtime for the Spark jobs the worker runs (local[2] inside the job).
#   docker compose build
FROM python:3.11.14-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/cryptolake
COPY packages/core packages/core
COPY packages/ingest-plugins packages/ingest-plugins
COPY packages/processing packages/processing
COPY transform transform
RUN pip install --no-cache-dir ./packages/core ./packages/ingest-plugins ./packages/processing
ENV CRYPTOLAKE_HOME=/var/lib/cryptolake \
    CRYPTOLAKE_DBT__PROJECT_DIR=/opt/cryptolake/transform
VOLUME /var/lib/cryptolake
ENTRYPOINT ["cryptolake"]
CMD ["--help"]
