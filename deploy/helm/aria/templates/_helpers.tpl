{{/* Names and labels. */}}
{{- define "aria.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "aria.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "aria.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "aria.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aria.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "aria.labels" -}}
helm.sh/chart: {{ include "aria.chart" . }}
{{ include "aria.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: aria
{{- end }}

{{- define "aria.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "aria.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "aria.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "aria.secretName" -}}
{{- default (include "aria.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* The name the official Qdrant chart gives its Service and Secret (its own "qdrant.fullname"). */}}
{{- define "aria.qdrantFullname" -}}
{{- if .Values.qdrant.fullnameOverride }}
{{- .Values.qdrant.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default "qdrant" .Values.qdrant.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* NEXUS_QDRANT_URL: given, or the in-release cluster; never the embedded engine, which one pod at a time owns. */}}
{{- define "aria.qdrantUrl" -}}
{{- if .Values.config.NEXUS_QDRANT_URL }}
{{- .Values.config.NEXUS_QDRANT_URL }}
{{- else if .Values.qdrant.enabled }}
{{- printf "http://%s:6333" (include "aria.qdrantFullname" .) }}
{{- else }}
{{- fail "Qdrant: set config.NEXUS_QDRANT_URL to your Qdrant server, or enable the bundled cluster with -f values-qdrant.yaml" }}
{{- end }}
{{- end }}

{{/* ConfigMap data: every non-empty setting of .Values.config, the Qdrant URL resolved. */}}
{{- define "aria.configData" -}}
{{- range $key, $value := .Values.config }}
{{- if and (ne $key "NEXUS_QDRANT_URL") (not (kindIs "invalid" $value)) (ne (toString $value) "") }}
{{ $key }}: {{ toString $value | quote }}
{{- end }}
{{- end }}
NEXUS_QDRANT_URL: {{ include "aria.qdrantUrl" . | quote }}
{{- end }}

{{/* Secret data: every non-empty setting of .Values.secrets; the URLs of PostgreSQL and Redis and the JWT key are required. */}}
{{- define "aria.secretData" -}}
{{- $_ := required "secrets.NEXUS_DATABASE_URL is required: the URL of the external PostgreSQL (or set existingSecret)" .Values.secrets.NEXUS_DATABASE_URL }}
{{- $_ := required "secrets.NEXUS_REDIS_URL is required: the URL of the external Redis (or set existingSecret)" .Values.secrets.NEXUS_REDIS_URL }}
{{- $_ := required "secrets.NEXUS_JWT_SECRET is required: 32+ random characters (or set existingSecret)" .Values.secrets.NEXUS_JWT_SECRET }}
{{- range $key, $value := .Values.secrets }}
{{- if and (not (kindIs "invalid" $value)) (ne (toString $value) "") }}
{{ $key }}: {{ toString $value | b64enc | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* Environment of every ARIA container: the ConfigMap, the Secret, and the key of the bundled Qdrant. */}}
{{- define "aria.envFrom" -}}
- configMapRef:
    name: {{ include "aria.fullname" . }}
- secretRef:
    name: {{ include "aria.secretName" . }}
{{- end }}

{{- define "aria.env" -}}
# Read-only root filesystem: whatever a library caches goes to the /tmp volume.
- name: XDG_CACHE_HOME
  value: /tmp/cache
{{- if and .Values.qdrant.enabled .Values.qdrant.apiKey }}
- name: NEXUS_QDRANT_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "aria.qdrantFullname" . }}-apikey
      key: api-key
{{- end }}
{{- end }}

{{/* Volumes of the API and worker pods. */}}
{{- define "aria.volumes" -}}
- name: tmp
  emptyDir: {}
- name: data
{{- if .Values.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ default (printf "%s-data" (include "aria.fullname" .)) .Values.persistence.existingClaim }}
{{- else }}
  emptyDir: {}
{{- end }}
{{- end }}

{{- define "aria.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: {{ .Values.config.NEXUS_DATA_DIR | default "/data" }}
{{- end }}
