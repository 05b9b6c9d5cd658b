# syntax=docker/dockerfile:1
# Build stage: wheels for the app and its dependencies.
FROM python:3.11-slim AS build
WORKDIR /src
RUN pip install --no-cache-dir --upgrade pip
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY api ./api
COPY search ./search
# The reference frontend; setup.py copies it into the wheel (served by `inkwell serve --demo`).
COPY examples/frontend ./examples/frontend
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Runtime stage: only the installed wheels, run as an unprivileged user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    INKWELL_INDEX_DIR=/data/index \
    INKWELL_DATABASE_URL=sqlite+aiosqlite:////data/inkwell.db
RUN useradd --create-home --uid 10001 inkwell && mkdir -p /data && chown inkwell /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER inkwell
WORKDIR /home/inkwell
VOLUME ["/data"]
EXPOSE 8000
# `inkwell serve` applies migrations before it starts the workers.
CMD ["inkwell", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
