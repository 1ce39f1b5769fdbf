# The hub's image for the production topology in docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY contracts contracts
COPY schemas schemas
COPY producers producers
COPY streams streams
COPY warehouse warehouse
COPY pipelines pipelines
COPY hub hub
RUN pip install --no-cache-dir -c constraints.txt . && useradd --system hub
USER hub
ENV GX_ANALYTICS_ENABLED=False PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1
CMD ["hub", "--help"]
