# One image for every service role (web, worker, reaper, migrate); docker-compose.yml picks the command.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_CONSTRAINT=/etc/pip-constraints.txt

# libseccomp2: the sandbox's syscall filter
RUN apt-get update \
 && apt-get install -y --no-install-recommends libseccomp2 \
 && rm -rf /var/lib/apt/lists/*

# torch is pinned exactly, and the constraint keeps any later requirement from pulling another torch
# (an unpinned torch pulls a multi-GB CUDA build). Build with --build-arg TORCH_INDEX=<a CPU-only wheel
# index> to keep the image small; without it pip's configured index is used.
ARG TORCH_INDEX=""
RUN echo "torch==2.13.0" > /etc/pip-constraints.txt \
 && pip install ${TORCH_INDEX:+--index-url "$TORCH_INDEX"} torch==2.13.0

WORKDIR /app
COPY pyproject.toml README.md ./
COPY grader grader
COPY worker worker
COPY migrations migrations
COPY assignments assignments
RUN pip install -e . \
 && pybabel -q compile -d grader/translations \
 && python -c "import torch; assert torch.__version__.startswith('2.13.0'), torch.__version__" \
 && useradd --system --uid 10001 --no-create-home --home-dir /nonexistent grader

# The web app, the reaper and migrations run as this unprivileged user (see docker-compose.yml). The
# worker runs as root inside its container: the fork-server sandbox maps each job to a host uid of its own.
USER grader
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "--worker-tmp-dir", "/dev/shm", "grader.web:create_app()"]
