{{/*
Chart name, truncated to 63 characters (the DNS label limit of Kubernetes names).
*/}}
{{- define "hygie.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name "<release>-<chart>", or the release name alone when it already contains the chart name.
*/}}
{{- define "hygie.fullname" -}}
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

{{- define "hygie.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every resource, whatever its component.
*/}}
{{- define "hygie.metaLabels" -}}
helm.sh/chart: {{ include "hygie.chart" . }}
app.kubernetes.io/name: {{ include "hygie.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: hygie
{{- end }}

{{/*
Labels of the gateway's resources.
*/}}
{{- define "hygie.labels" -}}
{{ include "hygie.metaLabels" . }}
app.kubernetes.io/component: gateway
{{- end }}

{{/*
Labels that select the gateway pods; immutable in a Deployment, so nothing version-specific.
*/}}
{{- define "hygie.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hygie.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end }}

{{- define "hygie.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "hygie.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference; a digest wins over the tag.
*/}}
{{- define "hygie.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{- define "hygie.devSecretName" -}}
{{- printf "%s-dev" (include "hygie.fullname" .) }}
{{- end }}

{{/*
Pod-level security context meeting the "restricted" Pod Security Standard.
*/}}
{{- define "hygie.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Container-level security context meeting the "restricted" Pod Security Standard; the root
filesystem is read-only, so /tmp and the spool are emptyDir volumes.
*/}}
{{- define "hygie.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
HYGIE_DATABASE_URL from the dev Secret or the existing one. Argument: dict "root" . "key" KEY,
where KEY overrides database.urlKey (the migration Job passes migrationUrlKey).
*/}}
{{- define "hygie.databaseUrlEnv" -}}
- name: HYGIE_DATABASE_URL
  valueFrom:
    secretKeyRef:
{{- if .root.Values.devSecret.create }}
      name: {{ include "hygie.devSecretName" .root }}
      key: database-url
{{- else }}
      name: {{ .root.Values.database.existingSecret }}
      key: {{ .key | default .root.Values.database.urlKey }}
{{- end }}
{{- end }}

{{/*
Environment shared by the gateway and the migration Job: settings that are not secret.
*/}}
{{- define "hygie.commonEnv" -}}
- name: HYGIE_LOG_FORMAT
  value: {{ .Values.server.logFormat | quote }}
- name: HYGIE_LOG_LEVEL
  value: {{ .Values.server.logLevel | quote }}
- name: HYGIE_ORG_TIMEZONE
  value: {{ .Values.server.orgTimezone | quote }}
{{- with .Values.server.otlpEndpoint }}
- name: HYGIE_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- with .Values.server.trustedProxies }}
- name: HYGIE_TRUSTED_PROXIES
  value: {{ toJson . | quote }}
{{- end }}
{{- end }}
