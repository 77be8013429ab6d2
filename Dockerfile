# syntax=docker/dockerfile:1
# Sotto's image: Node builds the browser bundles, a slim Python image serves them
# with daphne as an unprivileged user. docker-compose.yml runs it as the workers,
# the one-shot migration and the janitor; docs/deploy.md explains the whole.

# --- Stage 1: the JavaScript bundles (esbuild, hashed names) -------------------------
FROM node:20-bookworm-slim AS bundles
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ frontend/
RUN npm run build

# --- Stage 2: the Python runtime ------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000

RUN groupadd --system --gid 10001 sotto \
 && useradd --system --uid 10001 --gid sotto --home-dir /app --shell /usr/sbin/nologin sotto

WORKDIR /app

# Dependencies first, read from pyproject.toml, so code changes keep this layer cached.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY manage.py ./
COPY chatproject/ chatproject/
COPY rooms/ rooms/
COPY presence/ presence/
COPY frontend/ frontend/
COPY sotto/ sotto/
COPY ops/ ops/
COPY deploy/healthcheck.py deploy/healthcheck.py
COPY --from=bundles /src/frontend/static/frontend/dist/ frontend/static/frontend/dist/

# Static files are collected at build time (hashed and compressed) and served by
# whitenoise. The key below exists only for this command; it is not in the image's
# environment and the running container must be given its own.
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=collectstatic-build-step-only \
    python manage.py collectstatic --noinput -v 0

USER sotto
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=6s --start-period=20s --retries=3 \
    CMD ["python", "deploy/healthcheck.py"]

# --proxy-headers: take the client address and scheme from the proxy's X-Forwarded-*
# headers; only the proxy can reach the workers (see docker-compose.yml networks).
# No access log: it would pair client addresses with room ids (docs/deploy.md).
# tests/deploy_stack.py starts its workers with the flags of this line.
CMD ["sh", "-c", "exec daphne --bind 0.0.0.0 --port \"$PORT\" --ping-interval 20 --ping-timeout 40 --proxy-headers --access-log /dev/null chatproject.asgi:application"]
