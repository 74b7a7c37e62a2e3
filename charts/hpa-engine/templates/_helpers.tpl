{{/*
Names. Object names are capped at 63 characters, the limit of a label value
and of a DNS label, so that every name the chart builds is valid everywhere.
*/}}
{{- define "hpa-engine.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "hpa-engine.fullname" -}}
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

{{/* Component names leave room for their suffix. */}}
{{- define "hpa-engine.adapter.fullname" -}}
{{- printf "%s-adapter" (include "hpa-engine.fullname" . | trunc 55 | trimSuffix "-") }}
{{- end }}

{{- define "hpa-engine.controller.fullname" -}}
{{- printf "%s-controller" (include "hpa-engine.fullname" . | trunc 52 | trimSuffix "-") }}
{{- end }}

{{- define "hpa-engine.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "hpa-engine.labels" -}}
helm.sh/chart: {{ include "hpa-engine.chart" . }}
app.kubernetes.io/name: {{ include "hpa-engine.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: hpa-engine
{{- with .Values.customLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Annotations every object carries (customAnnotations), as a block or nothing. */}}
{{- define "hpa-engine.annotations" -}}
{{- with .Values.customAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Selector labels of a component; call with (dict "ctx" $ "component" "adapter"). */}}
{{- define "hpa-engine.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hpa-engine.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Labels of a component's objects. */}}
{{- define "hpa-engine.componentLabels" -}}
{{ include "hpa-engine.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "hpa-engine.adapter.serviceAccountName" -}}
{{- if .Values.adapter.serviceAccount.create }}
{{- default (include "hpa-engine.adapter.fullname" .) .Values.adapter.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.adapter.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "hpa-engine.controller.serviceAccountName" -}}
{{- if .Values.controller.serviceAccount.create }}
{{- default (include "hpa-engine.controller.fullname" .) .Values.controller.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.controller.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "hpa-engine.leaseName" -}}
{{- default (include "hpa-engine.controller.fullname" .) .Values.controller.leaderElection.leaseName }}
{{- end }}

{{- define "hpa-engine.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The ConfigMap holding config.yaml: the user's (rules.existing) or the chart's. */}}
{{- define "hpa-engine.configMapName" -}}
{{- default (printf "%s-config" (include "hpa-engine.fullname" . | trunc 56 | trimSuffix "-")) (get .Values.rules "existing") }}
{{- end }}

{{/* The Secret holding the adapter's serving certificate. */}}
{{- define "hpa-engine.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "hpa-engine.adapter.fullname" . | trunc 59 | trimSuffix "-")) .Values.tls.existingSecret }}
{{- end }}

{{/* <url>[:<port>]<path>, url being a template, as prometheus-adapter's chart builds it. */}}
{{- define "hpa-engine.prometheusURL" -}}
{{- tpl .Values.prometheus.url . }}{{ if .Values.prometheus.port }}:{{ .Values.prometheus.port }}{{ end }}{{ .Values.prometheus.path }}
{{- end }}

{{/*
The flags both components share: the configuration file and the Prometheus
client. Call with (dict "ctx" $ "maxQueryNames" N).
*/}}
{{- define "hpa-engine.providerArgs" -}}
{{- $v := .ctx.Values -}}
- --config=/etc/hpa-engine/config/config.yaml
- {{ printf "--prometheus-url=%s" (include "hpa-engine.prometheusURL" .ctx) | quote }}
- --prometheus-verb={{ $v.prometheus.verb }}
- --prometheus-timeout={{ $v.prometheus.timeout }}
{{- range $k, $val := $v.prometheus.headers }}
- {{ printf "--prometheus-header=%s=%s" $k $val | quote }}
{{- end }}
{{- if $v.prometheus.insecureSkipTLSVerify }}
- --prometheus-insecure-skip-tls-verify
{{- end }}
{{- with $v.prometheus.caFile }}
- {{ printf "--prometheus-ca-file=%s" . | quote }}
{{- end }}
{{- with $v.prometheus.tokenFile }}
- {{ printf "--prometheus-token-file=%s" . | quote }}
{{- end }}
{{- with $v.prometheus.clientCert }}
- {{ printf "--prometheus-client-cert=%s" . | quote }}
{{- end }}
{{- with $v.prometheus.clientKey }}
- {{ printf "--prometheus-client-key=%s" . | quote }}
{{- end }}
- --metrics-relist-interval={{ $v.metricsRelistInterval }}
{{- with $v.metricsMaxAge }}
- --metrics-max-age={{ . }}
{{- end }}
- --max-query-names={{ .maxQueryNames }}
- --v={{ $v.logLevel }}
{{- end }}

{{/* The config volume both components mount; a directory mount, so that edits reach the pod and hot-reload. */}}
{{- define "hpa-engine.configVolume" -}}
- name: config
  configMap:
    name: {{ include "hpa-engine.configMapName" . }}
- name: tmp
  emptyDir: {}
{{- end }}
