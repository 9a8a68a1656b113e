{{- define "bifrost.labels" -}}
app.kubernetes.io/part-of: bifrost
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "bifrost.gatewaySecret" -}}
{{- default (printf "%s-gateway" .Release.Name) .Values.gateway.existingSecret -}}
{{- end -}}
