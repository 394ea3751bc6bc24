"""The Argo CD Helm layout of the tests: argocd-example-apps' `helm-guestbook` chart in the
repository, its Application, and the live objects it deploys."""

from __future__ import annotations

from tests.support import kube
from tests.support.repos import REPO_URL

CHART = {
    "helm-guestbook/Chart.yaml": "apiVersion: v2\nname: helm-guestbook\nversion: 0.1.0\n",
    "helm-guestbook/templates/deployment.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ .Release.Name }}
        spec:
          template:
            spec:
              containers:
                - name: {{ .Chart.Name }}
                  image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
                  {{- if .Values.startupProbe }}
                  startupProbe: {{- toYaml .Values.startupProbe | nindent 12 }}
                  {{- end }}
                  resources:
                    {{- toYaml .Values.resources | nindent 12 }}
        """,
    "helm-guestbook/values.yaml": """
        replicaCount: 1
        image:
          repository: gcr.io/heptio-images/ks-guestbook-demo
          tag: "0.1"
        resources: {}
        """,
    "helm-guestbook/values-production.yaml": """
        # production overrides
        replicaCount: 3
        service:
          type: LoadBalancer
        """,
}


def application(helm: str, sources: str = "") -> str:
    source = sources or f"""
          source:
            repoURL: {REPO_URL}
            path: helm-guestbook
            helm:{helm}"""
    return f"""
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata: {{name: helm-guestbook, namespace: argocd}}
        spec:
          project: default{source}
          destination: {{namespace: default}}
        """


def live(failing: dict | None = None) -> list[dict]:
    d = kube.deployment("helm-guestbook", "default", [kube.container(
        "helm-guestbook", image="gcr.io/heptio-images/ks-guestbook-demo:0.1")], annotations={
        "argocd.argoproj.io/tracking-id":
            "helm-guestbook:apps/Deployment:default/helm-guestbook"})
    rs = kube.replicaset(d)
    return [d, rs, kube.pod(rs, "helm-guestbook-5d8f7c9b4-aaaaa",
                           [failing or kube.crashing("helm-guestbook")])]
