# IAM Warden: the bot in a small image. Socket Mode (SLACK_APP_TOKEN) or HTTP on $PORT; GET /healthz either way.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PORT=3000 \
    IAMBOT_DB=/data/iam-warden.db

RUN groupadd --system warden && useradd --system --gid warden --home-dir /app --shell /usr/sbin/nologin warden \
    && mkdir -p /data && chown warden:warden /data

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY --chown=warden:warden bot.py config.py ./
COPY --chown=warden:warden app ./app
COPY --chown=warden:warden audit ./audit
COPY --chown=warden:warden aws ./aws
COPY --chown=warden:warden checks ./checks
COPY --chown=warden:warden core ./core
COPY --chown=warden:warden delivery ./delivery
COPY --chown=warden:warden detections ./detections
COPY --chown=warden:warden handlers ./handlers
COPY --chown=warden:warden hunt ./hunt
COPY --chown=warden:warden iam ./iam
COPY --chown=warden:warden ingest ./ingest
COPY --chown=warden:warden slackui ./slackui
COPY --chown=warden:warden storage ./storage

USER warden
VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '3000')}/healthz\", timeout=4)"]

ENTRYPOINT ["python", "bot.py"]
CMD ["serve"]
