{{/* The chart name, 63 characters at most (a label value). */}}
{{- define "quckchat-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: every object of the release is named after it. */}}
{{- define "quckchat-operator.fullname" -}}
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

{{- define "quckchat-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels every object carries. */}}
{{- define "quckchat-operator.labels" -}}
helm.sh/chart: {{ include "quckchat-operator.chart" . }}
{{ include "quckchat-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: quckchat
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selectors carry only name and instance (the project's convention). */}}
{{- define "quckchat-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "quckchat-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "quckchat-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "quckchat-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The KopfPeering (one per served namespace) or ClusterKopfPeering the replicas share. */}}
{{- define "quckchat-operator.peeringName" -}}
{{- default (include "quckchat-operator.fullname" .) .Values.peering.name }}
{{- end }}

{{- define "quckchat-operator.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* Ports the operator serves: Kopf's liveness endpoint and Prometheus metrics. */}}
{{- define "quckchat-operator.healthPort" -}}8080{{- end }}
{{- define "quckchat-operator.metricsPort" -}}9090{{- end }}

{{/*
What the operator does inside each namespace it serves: reconcile the three kinds, write every
child kind of a cluster (apply.CHILD_KINDS), prune store volumes, post events, and peer.
*/}}
{{- define "quckchat-operator.namespacedRules" -}}
- apiGroups: [quckchat.io]
  resources:
    - quckchatclusters
    - quckchatclusters/status
    - servicegroups
    - servicegroups/status
    - workspaces
    - workspaces/status
  verbs: [get, list, watch, patch, update]
# ServiceGroups are created once per group by the operator, and removed with their group.
- apiGroups: [quckchat.io]
  resources: [servicegroups]
  verbs: [create, delete]
- apiGroups: [""]
  resources: [serviceaccounts, configmaps, secrets, services]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [apps]
  resources: [deployments, statefulsets]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies, ingresses]
  verbs: [get, list, watch, create, patch, update, delete]
# Pods are only read: a crash-looping service is named in the cluster's Degraded condition.
- apiGroups: [""]
  resources: [pods]
  verbs: [list]
# A managed store's volumes are deleted with its cluster when spec.deletionPolicy says so.
- apiGroups: [""]
  resources: [persistentvolumeclaims]
  verbs: [list, delete]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end }}

{{/* What Kopf itself needs cluster-wide: discovering CRDs and namespaces as they come and go. */}}
{{- define "quckchat-operator.clusterRules" -}}
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [list, watch]
- apiGroups: [""]
  resources: [namespaces]
  verbs: [list, watch]
{{- end }}
