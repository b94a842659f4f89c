# One image for api, worker and beat. Prebuilt dlib (dlib-bin): nothing is compiled.
FROM python:3.11-slim-bookworm

# The app runs as a user who cannot write the installed code, so Python could never cache its bytecode:
# every process (each gunicorn master, worker and command) would compile some 14 MB of source again,
# half of its start-up. uv compiles the libraries as it installs them; compileall the project's own.
ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN pip install --no-cache-dir "uv==0.13.9" \
    && useradd --system --create-home --home-dir /srv/fieldcheck fieldcheck

WORKDIR /srv/fieldcheck/app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY server ./server
COPY worker ./worker
COPY storage ./storage
RUN uv sync --frozen --no-dev \
    && python -m compileall -q server worker storage

USER fieldcheck
EXPOSE 8000
CMD ["fieldcheck", "--help"]
