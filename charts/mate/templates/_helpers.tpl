{{/* Names, labels and the image, shared by the templates. */}}

{{- define "mate.fullname" -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* The MateApp's name: app.name or the release name (at most 40 characters, the CRD's limit). */}}
{{- define "mate.appName" -}}
{{- default (include "mate.fullname" .) .Values.app.name | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "mate.operatorName" -}}
{{- printf "%s-operator" (include "mate.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* repository:tag, and @digest when one is given: the nodes pull by the digest, the tag names the version. */}}
{{- define "mate.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- with .Values.image.digest }}@{{ . }}{{ end -}}
{{- end -}}

{{- define "mate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: mate
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ default .Chart.AppVersion .Values.image.tag | quote }}
{{- end -}}

{{/* The operator's pods (Deployment, Service, PDB). */}}
{{- define "mate.operatorSelector" -}}
{{ include "mate.operatorPodsSelector" . }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* The operator's and the release hooks' pods (their NetworkPolicy). */}}
{{- define "mate.operatorPodsSelector" -}}
app.kubernetes.io/name: mate-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The label that hands a MateApp to this release's operator (its MATEAPP_SELECTOR): one operator per MateApp. */}}
{{- define "mate.operatorLabel" -}}
mate.example.com/operator: {{ include "mate.operatorName" . }}
{{- end -}}

{{/* Namespaces the operator watches: the release namespace and the extra ones. */}}
{{- define "mate.watchNamespaces" -}}
{{- $ns := list .Release.Namespace -}}
{{- range .Values.operator.extraWatchNamespaces -}}{{- $ns = append $ns . -}}{{- end -}}
{{- $ns | uniq | join "," -}}
{{- end -}}

{{/* A container securityContext meeting the restricted Pod Security Standard. */}}
{{- define "mate.containerSecurity" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "mate.podSecurity" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The Secrets the MateApp references, for the operator's get-by-name permission. */}}
{{- define "mate.secretNames" -}}
{{- $app := .Values.app -}}
{{- $names := list $app.database.urlSecretRef.name $app.redis.urlSecretRef.name $app.smtp.urlSecretRef.name $app.jwt.keysSecretRef.name -}}
{{- with $app.s3.credentialsSecretRef }}{{ $names = append $names .name }}{{ end -}}
{{- with $app.admin }}{{ with .secretRef }}{{ $names = append $names .name }}{{ end }}{{ end -}}
{{- $names | uniq | toJson -}}
{{- end -}}
