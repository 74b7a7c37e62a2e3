{{/* A component's PodDisruptionBudget; call with (dict "ctx" $ "component" "adapter" "pdb" .Values.adapter.podDisruptionBudget "name" "..."). */}}
{{- define "hpa-engine.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "hpa-engine.componentLabels" (dict "ctx" .ctx "component" .component) | nindent 4 }}
  {{- with include "hpa-engine.annotations" .ctx }}{{ . | nindent 2 }}{{ end }}
spec:
  {{- if and (hasKey .pdb "minAvailable") (not (kindIs "invalid" (get .pdb "minAvailable"))) }}
  minAvailable: {{ .pdb.minAvailable }}
  {{- else if and (hasKey .pdb "maxUnavailable") (not (kindIs "invalid" (get .pdb "maxUnavailable"))) }}
  maxUnavailable: {{ .pdb.maxUnavailable }}
  {{- else }}
  maxUnavailable: 1
  {{- end }}
  selector:
    matchLabels:
      {{- include "hpa-engine.selectorLabels" (dict "ctx" .ctx "component" .component) | nindent 6 }}
{{- end }}
