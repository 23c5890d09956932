# tunebot: the Slack app in HTTP mode (or Socket Mode when SLACK_APP_TOKEN is set).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MPLBACKEND=Agg \
    MPLCONFIGDIR=/tmp/matplotlib \
    DATABASE_URL=sqlite:////data/tunebot.db \
    PORT=3000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install '.[postgres,fonts]' \
    && useradd --create-home --uid 10001 tunebot \
    && mkdir -p /data && chown tunebot:tunebot /data

USER tunebot
VOLUME ["/data"]
EXPOSE 3000
# `tunebot health` asks /healthz on PORT: HTTP mode serves it beside /slack/events, Socket Mode
# (the manifest's default) on a small listener of its own, healthy while its connection is up.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["tunebot", "health"]
CMD ["tunebot", "run"]
