{{/* Chart name, or nameOverride. */}}
{{- define "aws-nlb-controller.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the release's resources: fullnameOverride, else "<release>-<chart>", or just the
release name when it already holds the chart name.
*/}}
{{- define "aws-nlb-controller.fullname" -}}
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

{{/* "<chart>-<version>" for the helm.sh/chart label. */}}
{{- define "aws-nlb-controller.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the controller pods; never change them after a release exists. */}}
{{- define "aws-nlb-controller.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aws-nlb-controller.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every resource of the chart. */}}
{{- define "aws-nlb-controller.labels" -}}
helm.sh/chart: {{ include "aws-nlb-controller.chart" . }}
{{ include "aws-nlb-controller.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: controller
app.kubernetes.io/part-of: aws-nlb-controller
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Name of the ServiceAccount the pods run as. */}}
{{- define "aws-nlb-controller.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "aws-nlb-controller.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Namespace of the leader-election Lease. */}}
{{- define "aws-nlb-controller.leaderElectionNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/* Image reference: repository, then @digest if set, else :tag (default appVersion). */}}
{{- define "aws-nlb-controller.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* defaultTags as "k=v,k=v", keys sorted so the rendering is stable. */}}
{{- define "aws-nlb-controller.defaultTags" -}}
{{- $pairs := list }}
{{- range $key := keys .Values.defaultTags | sortAlpha }}
{{- $pairs = append $pairs (printf "%s=%s" $key (get $.Values.defaultTags $key)) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}

{{/*
The controller's command line after the image's entrypoint: the `run` command and its flags, as a
YAML list (toYaml quotes whatever needs quoting).
*/}}
{{- define "aws-nlb-controller.args" -}}
{{- $v := .Values }}
{{- $args := list "run" (printf "--cluster-name=%s" $v.clusterName) }}
{{- with $v.awsRegion }}{{ $args = append $args (printf "--aws-region=%s" .) }}{{ end }}
{{- with $v.awsEndpointUrl }}{{ $args = append $args (printf "--aws-endpoint-url=%s" .) }}{{ end }}
{{- with $v.vpcId }}{{ $args = append $args (printf "--vpc-id=%s" .) }}{{ end }}
{{- $args = append $args (printf "--load-balancer-class=%s" $v.loadBalancerClass) }}
{{- $args = append $args (printf "--default-target-type=%s" $v.defaultTargetType) }}
{{- $args = append $args (printf "--default-scheme=%s" $v.defaultScheme) }}
{{- if $v.defaultTags }}
{{- $args = append $args (printf "--default-tags=%s" (include "aws-nlb-controller.defaultTags" .)) }}
{{- end }}
{{- $args = append $args (printf "--concurrency=%v" $v.concurrency) }}
{{- $args = append $args (printf "--target-batch-window=%s" $v.targetBatchWindow) }}
{{- $args = append $args (printf "--aws-api-budget=%v" $v.awsApiBudget) }}
{{- with $v.awsApiThrottle }}{{ $args = append $args (printf "--aws-api-throttle=%s" (join "," .)) }}{{ end }}
{{- $args = append $args (printf "--log-level=%s" $v.logLevel) }}
{{- $args = append $args (printf "--metrics-bind-address=:%v" $v.metrics.port) }}
{{- $args = append $args (printf "--health-probe-bind-address=:%v" $v.healthProbe.port) }}
{{- /* --leader-elect is a bare boolean flag: present to elect, absent to run alone. */}}
{{- if $v.leaderElection.enabled }}
{{- $args = append $args "--leader-elect" }}
{{- $args = append $args (printf "--leader-election-namespace=%s" (include "aws-nlb-controller.leaderElectionNamespace" .)) }}
{{- $args = append $args (printf "--leader-election-id=%s" $v.leaderElection.id) }}
{{- end }}
{{- range $v.extraArgs }}{{ $args = append $args . }}{{ end }}
{{- toYaml $args }}
{{- end }}
