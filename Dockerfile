# remediator: a working image that runs `remediator` (hardening comes later).
# Build: docker build -t remediator .    Run: docker run --rm remediator demo
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY remediator ./remediator
COPY policies ./policies
COPY gitops-repo-example ./gitops-repo-example
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
ARG KUBECTL_VERSION=v1.32.4
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates curl \
 && curl -fsSLo /usr/local/bin/kubectl \
      "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/$(dpkg --print-architecture)/kubectl" \
 && chmod 0755 /usr/local/bin/kubectl \
 && apt-get purge -y curl && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
RUN useradd --create-home --uid 10001 remediator
USER 10001
WORKDIR /home/remediator
ENTRYPOINT ["remediator"]
CMD ["run"]
