# syntax=docker/dockerfile:1
# The operator image: the same distribution as the platform image, run as `quckchat-operator`.
# The chart may replace CMD with its own args. Build from the repository root:
#   docker build -f images/operator.Dockerfile -t ghcr.io/quckchat/quckchat-operator:1.0.0 .

# The base, for a private registry or a machine without one: any image with Python 3.11, its
# venv module, `python` on the PATH and groupadd/useradd (the test bed makes one from Debian).
ARG BASE=python:3.11.15-slim-bookworm

FROM ${BASE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/quckchat
WORKDIR /src
# The dependencies in a layer of their own: a build after a change to the sources reuses it.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" >requirements.txt \
 && /opt/quckchat/bin/pip install -r requirements.txt
COPY README.md ./
COPY services/ services/
COPY operator/ operator/
# A wheel, not an editable install: the venv must not point back into /src.
RUN /opt/quckchat/bin/pip wheel --no-deps --wheel-dir /wheels . \
 && /opt/quckchat/bin/pip install --no-deps /wheels/quckchat-*.whl

FROM ${BASE}
RUN groupadd --gid 10001 quckchat \
 && useradd --uid 10001 --gid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin quckchat
COPY --from=builder /opt/quckchat /opt/quckchat
# Bytecode was compiled at install time; the root filesystem is read-only in a pod.
ENV PATH=/opt/quckchat/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /tmp
USER 10001:10001
# The version and revision last: a build that changes only them reuses every layer above.
ARG BASE
ARG VERSION=1.0.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="quckchat-operator" \
      org.opencontainers.image.description="QuckChat operator: runs QuckChatClusters, ServiceGroups and Workspaces" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${BASE}"
ENTRYPOINT ["quckchat-operator"]
CMD ["run", "-A"]
