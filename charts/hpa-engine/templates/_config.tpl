{{/*
The default rules (rules.default): the metric names prometheus-adapter's chart
exposes by default, so HPAs written against it keep working. cAdvisor's
container_* series become per-pod metrics without the container_ prefix
(counters as per-second rates, *_seconds_total as the seconds spent per
second); every other namespaced series becomes a metric of the objects its
labels name (pod, service, deployment, ...), counters as rates.
*/}}
{{- define "hpa-engine.defaultRules" -}}
- seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
      pod: {resource: pod}
  name:
    matches: ^container_(.*)_seconds_total$
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[5m])) by (<<.GroupBy>>)
- seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
  seriesFilters:
    - isNot: ^container_.*_seconds_total$
  resources:
    overrides:
      namespace: {resource: namespace}
      pod: {resource: pod}
  name:
    matches: ^container_(.*)_total$
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[5m])) by (<<.GroupBy>>)
- seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
  seriesFilters:
    - isNot: ^container_.*_total$
  resources:
    overrides:
      namespace: {resource: namespace}
      pod: {resource: pod}
  name:
    matches: ^container_(.*)$
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>,container!="POD"}) by (<<.GroupBy>>)
- seriesQuery: '{namespace!="",__name__!~"^container_.*"}'
  seriesFilters:
    - isNot: .*_total$
  resources:
    template: <<.Resource>>
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
- seriesQuery: '{namespace!="",__name__!~"^container_.*"}'
  seriesFilters:
    - isNot: .*_seconds_total$
  resources:
    template: <<.Resource>>
  name:
    matches: ^(.*)_total$
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)
- seriesQuery: '{namespace!="",__name__!~"^container_.*"}'
  resources:
    template: <<.Resource>>
  name:
    matches: ^(.*)_seconds_total$
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)
{{- end }}

{{/*
The configuration file: .Values.config verbatim, or the file built from
rules.default, rules.custom, rules.external and rules.resource.
*/}}
{{- define "hpa-engine.config" -}}
{{- if .Values.config }}
{{- .Values.config }}
{{- else if or .Values.rules.default .Values.rules.custom .Values.rules.external .Values.rules.resource }}
{{- if or .Values.rules.default .Values.rules.custom }}
rules:
{{- if .Values.rules.default }}
{{ include "hpa-engine.defaultRules" . }}
{{- end }}
{{- with .Values.rules.custom }}
{{ toYaml . }}
{{- end }}
{{- end }}
{{- with .Values.rules.external }}
externalRules:
{{ toYaml . }}
{{- end }}
{{- with .Values.rules.resource }}
resourceRules:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- else }}
rules: []
{{- end }}
{{- end }}
