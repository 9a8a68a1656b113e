{{- define "bifrost.labels" -}}
app.kubernetes.io/part-of: bifrost
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "bifrost.gatewaySecret" -}}
{{- default (printf "%s-gateway" .Release.Name) .Values.gateway.existingSecret -}}
{{- end -}}

{{/* The Secret holding DATABASE_URL, and its key: the operator's, or the one the chart creates. */}}
{{- define "bifrost.databaseSecret" -}}
{{- default (printf "%s-database" .Release.Name) .Values.postgres.existingSecret -}}
{{- end -}}

{{- define "bifrost.databaseSecretKey" -}}
{{- if .Values.postgres.existingSecret }}{{ .Values.postgres.existingSecretKey }}{{ else }}database-url{{ end -}}
{{- end -}}

{{/* The services that connect to Postgres; no other pod gets DATABASE_URL. */}}
{{- define "bifrost.databaseServices" -}}
api-gateway projector canary
{{- end -}}
