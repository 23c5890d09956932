# tunebot: the Slack app in HTTP mode (or Socket Mode when SLACK_APP_TOKEN is set).
#
# Reproducible: the dependencies come from requirements.lock (exact versions, hashes checked),
# then tunebot itself is installed on top without resolving anything. The lock holds
# pyproject.toml's dependencies and the `postgres` extra; after changing them, regenerate it:
#     pip install uv && uv pip compile pyproject.toml --extra postgres --universal \
#         --python-version 3.11 --generate-hashes -o requirements.lock
# Only the bot is copied in: the stand-ins (standins/), tests and benchmarks stay out.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLBACKEND=Agg \
    MPLCONFIGDIR=/tmp/matplotlib \
    DATABASE_URL=sqlite:////data/tunebot.db \
    PORT=3000

# Debian 12 (bookworm): the font packages and paths below are its own.
# Fonts for chart titles with Chinese, Japanese or Korean characters, emoji and symbols
# (bot/presentation/fonts.py looks for them here). Emoji come from Symbola: Debian's
# fonts-noto-color-emoji is a bitmap font, which matplotlib cannot draw with.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends fonts-noto-core fonts-noto-cjk fonts-symbola \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-deps . \
    && pip check \
    && useradd --create-home --uid 10001 tunebot \
    && mkdir -p /data && chown tunebot:tunebot /data

USER tunebot
VOLUME ["/data"]
EXPOSE 3000
# `tunebot health` asks /healthz on PORT: HTTP mode serves it beside /slack/events, Socket Mode
# (the manifest's default) on a small listener of its own, healthy while its connection is up.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["tunebot", "health"]
CMD ["tunebot", "run"]
