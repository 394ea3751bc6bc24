"""Charts for the Helm tests, and a chart repository serving them on loopback.

Written for these tests in the shape of public charts: an app-template style chart (bjw-s:
`controllers.<controller>.containers.<container>` maps, containers built by a `_helpers` template,
a values schema), a bitnami-style conventional chart (top-level `image`, `resources`), and a chart
whose memory limit is fixed in its template. `ChartRepo` packages them with the real `helm
package`, indexes them with `helm repo index` and serves the folder with `http.server`.
"""

from __future__ import annotations

import subprocess
import textwrap
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from remediator.render.helm import helm_binary

needs_helm = pytest.mark.skipif(helm_binary() is None, reason="helm is not installed "
                                "(.ci/run installs it: scripts/install_helm.py)")

APP_TEMPLATE = {
    "Chart.yaml": """
        apiVersion: v2
        name: app-template
        description: One chart for any app, its controllers and containers as maps
        version: 4.1.2
        """,
    "values.yaml": """
        # defaults every controller starts from
        defaultPodOptions:
          automountServiceAccountToken: false
        controllers: {}
        """,
    "values.schema.json": """
        {
          "$schema": "http://json-schema.org/draft-07/schema#",
          "type": "object",
          "properties": {
            "controllers": {
              "type": "object",
              "additionalProperties": {
                "type": "object",
                "properties": {
                  "enabled": {"type": "boolean"},
                  "replicas": {"type": "integer"},
                  "containers": {
                    "type": "object",
                    "additionalProperties": {
                      "type": "object",
                      "additionalProperties": false,
                      "properties": {
                        "image": {"type": "object"},
                        "env": {"type": "object"},
                        "args": {"type": "array"},
                        "resources": {"type": "object"},
                        "probes": {"type": "object"}
                      }
                    }
                  }
                }
              }
            }
          }
        }
        """,
    "templates/_helpers.tpl": """
        {{- define "app.fullname" -}}
        {{- .Release.Name | trunc 63 | trimSuffix "-" -}}
        {{- end -}}

        {{/* one container from its values block: (dict "name" n "spec" s) */}}
        {{- define "app.container" -}}
        - name: {{ .name }}
          image: {{ printf "%s:%v" .spec.image.repository .spec.image.tag | quote }}
          {{- with .spec.args }}
          args: {{- toYaml . | nindent 4 }}
          {{- end }}
          {{- with .spec.env }}
          env:
            {{- range $k, $v := . }}
            - name: {{ $k }}
              value: {{ $v | quote }}
            {{- end }}
          {{- end }}
          {{- with .spec.resources }}
          resources: {{- toYaml . | nindent 4 }}
          {{- end }}
          {{- with .spec.probes }}{{ with .liveness }}
          livenessProbe: {{- toYaml . | nindent 4 }}
          {{- end }}{{ end }}
        {{- end -}}
        """,
    "templates/controllers.yaml": """
        {{- range $cname, $c := .Values.controllers }}
        {{- if ne $c.enabled false }}
        {{- $name := include "app.fullname" $ }}
        {{- if ne $cname "main" }}{{ $name = printf "%s-%s" $name $cname }}{{ end }}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ $name }}
          labels:
            app.kubernetes.io/name: {{ $.Release.Name }}
            app.kubernetes.io/instance: {{ $.Release.Name }}
            app.kubernetes.io/component: {{ $cname }}
        spec:
          replicas: {{ $c.replicas | default 1 }}
          selector:
            matchLabels:
              app.kubernetes.io/instance: {{ $.Release.Name }}
              app.kubernetes.io/component: {{ $cname }}
          template:
            metadata:
              annotations:
                checksum/values: {{ toJson $c | sha256sum }}
              labels:
                app.kubernetes.io/instance: {{ $.Release.Name }}
                app.kubernetes.io/component: {{ $cname }}
            spec:
              {{- with $.Values.defaultPodOptions }}
              automountServiceAccountToken: {{ .automountServiceAccountToken }}
              {{- end }}
              containers:
                {{- range $n, $spec := $c.containers }}
                {{- include "app.container" (dict "name" $n "spec" $spec) | nindent 8 }}
                {{- end }}
        {{- end }}
        {{- end }}
        """,
    "templates/service.yaml": """
        apiVersion: v1
        kind: Service
        metadata:
          name: {{ include "app.fullname" . }}
        spec:
          selector:
            app.kubernetes.io/instance: {{ .Release.Name }}
          ports:
            - port: 80
        """,
}

CONVENTIONAL = {
    "Chart.yaml": "apiVersion: v2\nname: redis\nversion: 19.6.4\nappVersion: 7.2.5\n",
    "values.yaml": """
        image:
          registry: docker.io
          repository: bitnami/redis
          tag: 7.2.5-debian-12-r0
        ## resources: requests and limits of the redis container
        resources: {}
        metrics:
          enabled: false
          image:
            repository: bitnami/redis-exporter
            tag: 1.62.0
          resources: {}
        """,
    "templates/deployment.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ .Release.Name }}-master
        spec:
          selector:
            matchLabels: {app: {{ .Release.Name }}}
          template:
            metadata:
              labels: {app: {{ .Release.Name }}}
            spec:
              containers:
                - name: redis
                  {{- with .Values.image }}
                  image: {{ printf "%s/%s:%s" .registry .repository .tag }}
                  {{- end }}
                  {{- with .Values.resources }}
                  resources: {{- toYaml . | nindent 12 }}
                  {{- end }}
                {{- if .Values.metrics.enabled }}
                - name: metrics
                  {{- with .Values.metrics.image }}
                  image: {{ printf "%s:%s" .repository .tag }}
                  {{- end }}
                  {{- with .Values.metrics.resources }}
                  resources: {{- toYaml . | nindent 12 }}
                  {{- end }}
                {{- end }}
        """,
}

CONVENTIONAL["templates/secret.yaml"] = """
    # like bitnami's: a password generated on every render when none is given
    apiVersion: v1
    kind: Secret
    metadata:
      name: {{ .Release.Name }}
    data:
      redis-password: {{ .Values.password | default (randAlphaNum 16) | b64enc | quote }}
    """

FIXED_LIMIT = {
    "Chart.yaml": "apiVersion: v2\nname: fixed\nversion: 0.3.0\n",
    "values.yaml": "image:\n  repository: ghcr.io/acme/fixed\n  tag: 1.0.0\n",
    "templates/deployment.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ .Release.Name }}
        spec:
          selector:
            matchLabels: {app: {{ .Release.Name }}}
          template:
            metadata:
              labels: {app: {{ .Release.Name }}}
            spec:
              containers:
                - name: app
                  image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
                  resources:
                    limits: {memory: 128Mi}
        """,
}

CHARTS = {"app-template": APP_TEMPLATE, "redis": CONVENTIONAL, "fixed": FIXED_LIMIT}


def write_chart(folder: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return folder


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class ChartRepo:
    """The charts packaged and indexed in ``folder``, served at ``url`` until ``close``."""

    def __init__(self, folder: Path) -> None:
        helm = helm_binary()
        assert helm is not None
        self.folder = folder
        served = folder / "repo"
        served.mkdir(parents=True)
        for name, files in CHARTS.items():
            src = write_chart(folder / "src" / name, files)
            subprocess.run([helm, "package", str(src), "--destination", str(served)],
                           check=True, capture_output=True, timeout=60)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0),
                                          partial(_Quiet, directory=str(served)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        subprocess.run([helm, "repo", "index", str(served), "--url", self.url], check=True,
                       capture_output=True, timeout=60)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
