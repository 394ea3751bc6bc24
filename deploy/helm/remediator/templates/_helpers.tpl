{{/* Names: the release's full name, as `helm create` makes it (release "remediator": "remediator"). */}}
{{- define "remediator.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "remediator.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Selector labels: stable across upgrades. */}}
{{- define "remediator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "remediator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Every object's labels: the selector labels and Helm's conventional ones. */}}
{{- define "remediator.labels" -}}
{{ include "remediator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "remediator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "remediator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name: the existing ServiceAccount to run as" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "remediator.secretName" -}}
{{- default (include "remediator.fullname" .) .Values.github.existingSecret }}
{{- end }}

{{- define "remediator.leaseName" -}}
{{- default (include "remediator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{- define "remediator.leaderElection" -}}
{{- if or (gt (int .Values.replicas) 1) .Values.leaderElection.force }}true{{ end }}
{{- end }}

{{- define "remediator.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* The series of this release, for the alerts (a ServiceMonitor's job is the Service's name). */}}
{{- define "remediator.seriesSelector" -}}
{{- default (printf "job=%q, namespace=%q" (include "remediator.fullname" .) .Release.Namespace) .Values.metrics.prometheusRule.selector }}
{{- end }}
