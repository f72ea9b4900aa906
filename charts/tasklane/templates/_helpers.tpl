{{/*
Chart name, truncated to 63 characters (the DNS label limit).
*/}}
{{- define "tasklane.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Full name that prefixes every resource: the release name, plus the chart name unless the release name already
contains it; truncated to 63 characters.
*/}}
{{- define "tasklane.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "tasklane.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
A component's resource name: `<fullname>-<suffix>`, truncated to 63. Called with (list $ "suffix").
*/}}
{{- define "tasklane.componentName" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" (include "tasklane.fullname" $root) (index . 1) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Name of the API's resources.
*/}}
{{- define "tasklane.api.fullname" -}}
{{- include "tasklane.componentName" (list . "api") -}}
{{- end -}}

{{/*
Name of one worker set's resources. Called with (list $ setName).
*/}}
{{- define "tasklane.workers.fullname" -}}
{{- include "tasklane.componentName" (list (index . 0) (printf "worker-%s" (index . 1))) -}}
{{- end -}}

{{/*
Name of the ServiceAccount shared by every worker set (the component "workers").
*/}}
{{- define "tasklane.workers.componentName" -}}
{{- include "tasklane.componentName" (list . "worker") -}}
{{- end -}}

{{/*
Name of beat's resources.
*/}}
{{- define "tasklane.beat.fullname" -}}
{{- include "tasklane.componentName" (list . "beat") -}}
{{- end -}}

{{/*
Name of the migration Job's resources (the Job itself adds the revision when it is not a hook).
*/}}
{{- define "tasklane.migrations.fullname" -}}
{{- include "tasklane.componentName" (list . "migrations") -}}
{{- end -}}

{{/*
Name of Flower's resources.
*/}}
{{- define "tasklane.flower.fullname" -}}
{{- include "tasklane.componentName" (list . "flower") -}}
{{- end -}}

{{/*
Name of the bundled Redis's resources.
*/}}
{{- define "tasklane.redis.fullname" -}}
{{- include "tasklane.componentName" (list . "redis") -}}
{{- end -}}

{{/*
Name of the bundled PostgreSQL's resources.
*/}}
{{- define "tasklane.postgresql.fullname" -}}
{{- include "tasklane.componentName" (list . "postgresql") -}}
{{- end -}}

{{/*
Name of the ConfigMap of non-secret settings.
*/}}
{{- define "tasklane.config.fullname" -}}
{{- include "tasklane.componentName" (list . "config") -}}
{{- end -}}

{{/*
Name of the chart's Secret.
*/}}
{{- define "tasklane.secrets.fullname" -}}
{{- include "tasklane.componentName" (list . "secrets") -}}
{{- end -}}

{{/*
Name of the test pod.
*/}}
{{- define "tasklane.tests.fullname" -}}
{{- include "tasklane.componentName" (list . "test") -}}
{{- end -}}

{{/*
Selector labels of a component. Called with (list $ "component").
*/}}
{{- define "tasklane.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "tasklane.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/*
Standard labels of a component's objects. Called with (list $ "component").
*/}}
{{- define "tasklane.labels" -}}
{{- $root := index . 0 -}}
helm.sh/chart: {{ include "tasklane.chart" $root }}
{{ include "tasklane.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: tasklane
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
{{- end -}}

{{/*
A Tasklane image reference: image.registry + the component's repository + its tag (or image.tag, or appVersion).
Called with (list $ componentImage defaultRepository).
*/}}
{{- define "tasklane.image" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 -}}
{{- $repository := default (index . 2) $image.repository -}}
{{- $tag := default (default $root.Chart.AppVersion $root.Values.image.tag) $image.tag -}}
{{- if $root.Values.image.registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" $root.Values.image.registry) $repository $tag -}}
{{- else -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
A third-party image reference (Redis, PostgreSQL, Flower): repository:tag.
*/}}
{{- define "tasklane.thirdPartyImage" -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}

{{/*
imagePullSecrets of every pod.
*/}}
{{- define "tasklane.imagePullSecrets" -}}
{{- with .Values.image.pullSecrets -}}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end -}}
{{- end -}}

{{/*
Pod security context of the Tasklane pods (Pod Security Standard "restricted").
*/}}
{{- define "tasklane.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Container security context of every container of the release (Pod Security Standard "restricted"; the root
filesystem is read-only, /tmp is an emptyDir).
*/}}
{{- define "tasklane.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
The /tmp emptyDir volume every pod mounts (the only writable path of a read-only root filesystem). On disk, not in
memory: the reports worker writes its scratch files there.
*/}}
{{- define "tasklane.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 1Gi
{{- end -}}

{{/*
The /tmp volume mount.
*/}}
{{- define "tasklane.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/*
Name of a component's ServiceAccount. Called with (list $ componentValues defaultName).
*/}}
{{- define "tasklane.serviceAccountName" -}}
{{- $sa := (index . 1).serviceAccount -}}
{{- if $sa.create -}}
{{- default (index . 2) $sa.name -}}
{{- else -}}
{{- default "default" $sa.name -}}
{{- end -}}
{{- end -}}

{{/*
Whether the migration Job and what it reads (ConfigMap, Secret, its ServiceAccount) are Helm hooks. Refuses the
combination a pre-install hook cannot serve: the bundled PostgreSQL does not exist yet when it runs.
*/}}
{{- define "tasklane.migrations.hooks" -}}
{{- if .Values.migrations.useHelmHooks -}}
{{- if .Values.postgresql.enabled -}}
{{- fail "migrations.useHelmHooks: a pre-install hook runs before the bundled PostgreSQL (postgresql.enabled) exists; use externalDatabase, or set migrations.useHelmHooks=false" -}}
{{- end -}}
true
{{- end -}}
{{- end -}}

{{/*
Hook annotations for what the migration hook Job reads (created first, recreated on upgrade and rollback).
*/}}
{{- define "tasklane.migrations.prerequisiteHookAnnotations" -}}
{{- if include "tasklane.migrations.hooks" . -}}
"helm.sh/hook": pre-install,pre-upgrade,pre-rollback
"helm.sh/hook-weight": "-10"
"helm.sh/hook-delete-policy": before-hook-creation
{{- end -}}
{{- end -}}

{{/*
The queues each worker service serves (its registered tasks).
*/}}
{{- define "tasklane.workers.serviceQueues" -}}
{{- dict "reports" (list "reports" "maintenance") "notifications" (list "notifications") "payments" (list "payments") | toJson -}}
{{- end -}}

{{/*
Deep merge of two dicts (JSON out): keys of the second win, nested dicts merge key by key, and unlike sprig's
merge a false, 0 or null in the second still wins. Called with (list base override).
*/}}
{{- define "tasklane.deepMerge" -}}
{{- $base := deepCopy (index . 0) -}}
{{- range $key, $value := index . 1 -}}
{{- $current := get $base $key -}}
{{- if and (kindIs "map" $value) (kindIs "map" $current) -}}
{{- $_ := set $base $key (include "tasklane.deepMerge" (list $current $value) | fromJson) -}}
{{- else -}}
{{- $_ := set $base $key $value -}}
{{- end -}}
{{- end -}}
{{- toJson $base -}}
{{- end -}}

{{/*
The worker sets with workers.defaults merged in, validated, as a JSON list. Each set also gets:
`key` (how messages name it: workers.sets[i] (name)), `grace` (its terminationGracePeriodSeconds),
`fullname`, and `origin` (which values key each overridable setting came from).
Refuses: duplicate names, queues the service does not serve, hard limit not above soft, a grace period shorter than
the hard limit plus the soft-shutdown timeout, a visibility timeout shorter than the hold, minReplicas 0 without
KEDA, HPA without a CPU request.
*/}}
{{- define "tasklane.workers.sets" -}}
{{- $root := . -}}
{{- $serviceQueues := include "tasklane.workers.serviceQueues" . | fromJson -}}
{{- $softShutdown := float64 .Values.config.worker.softShutdownTimeout -}}
{{- $names := dict -}}
{{- $sets := list -}}
{{- range $index, $raw := .Values.workers.sets -}}
{{- $set := include "tasklane.deepMerge" (list $root.Values.workers.defaults $raw) | fromJson -}}
{{- $key := printf "workers.sets[%d] (%s)" $index $set.name -}}
{{- if hasKey $names $set.name -}}
{{- fail (printf "%s: name %q is already used by another worker set; set names must be unique" $key $set.name) -}}
{{- end -}}
{{- $_ := set $names $set.name true -}}
{{- $served := get $serviceQueues $set.service -}}
{{- range $set.queues -}}
{{- if not (has . $served) -}}
{{- fail (printf "%s.queues: service %q does not serve queue %q (it serves %s)" $key $set.service . (join ", " $served)) -}}
{{- end -}}
{{- end -}}
{{- $origin := dict -}}
{{- $note := dict -}}
{{- range $field := list "softTimeLimit" "hardTimeLimit" "terminationGracePeriodSeconds" "visibilityTimeout" -}}
{{- $_ := set $origin $field (ternary (printf "%s.%s" $key $field) (printf "workers.defaults.%s" $field) (hasKey $raw $field)) -}}
{{- $_ := set $note $field (ternary "" (printf ", inherited by %s" $key) (hasKey $raw $field)) -}}
{{- end -}}
{{- $autoscalingKey := ternary (printf "%s.autoscaling" $key) "workers.defaults.autoscaling" (hasKey $raw "autoscaling") -}}
{{- $soft := int $set.softTimeLimit -}}
{{- $hard := int $set.hardTimeLimit -}}
{{- if le $hard $soft -}}
{{- fail (printf "%s (%d%s) must be larger than %s (%d%s)" $origin.hardTimeLimit $hard $note.hardTimeLimit $origin.softTimeLimit $soft $note.softTimeLimit) -}}
{{- end -}}
{{- $needed := int (ceil (addf $hard $softShutdown)) -}}
{{- $grace := add $needed 15 -}}
{{- if not (kindIs "invalid" $set.terminationGracePeriodSeconds) -}}
{{- $grace = int $set.terminationGracePeriodSeconds -}}
{{- if lt $grace $needed -}}
{{- fail (printf "%s (%d%s) must be at least hardTimeLimit (%d) + config.worker.softShutdownTimeout (%v) = %d, or Kubernetes kills tasks Celery still lets run" $origin.terminationGracePeriodSeconds $grace $note.terminationGracePeriodSeconds $hard $softShutdown $needed) -}}
{{- end -}}
{{- end -}}
{{- if not (kindIs "invalid" $set.visibilityTimeout) -}}
{{- $hold := int (add $root.Values.config.worker.retryHold $hard) -}}
{{- if le (int $set.visibilityTimeout) $hold -}}
{{- fail (printf "%s (%d%s) must exceed config.worker.retryHold + hardTimeLimit = %d, or long tasks would run twice" $origin.visibilityTimeout (int $set.visibilityTimeout) $note.visibilityTimeout $hold) -}}
{{- end -}}
{{- end -}}
{{- $autoscaling := $set.autoscaling -}}
{{- if and (eq (int $autoscaling.minReplicas) 0) (ne $autoscaling.type "keda") -}}
{{- fail (printf "%s.minReplicas: 0 (scale to zero) needs autoscaling.type keda, not %s" $autoscalingKey $autoscaling.type) -}}
{{- end -}}
{{- if lt (int $autoscaling.maxReplicas) (int $autoscaling.minReplicas) -}}
{{- fail (printf "%s.maxReplicas (%d) must be at least minReplicas (%d)" $autoscalingKey (int $autoscaling.maxReplicas) (int $autoscaling.minReplicas)) -}}
{{- end -}}
{{- if and (eq $autoscaling.type "hpa") (not (dig "requests" "cpu" "" $set.resources)) -}}
{{- fail (printf "%s: autoscaling.type hpa scales on CPU utilization, which needs resources.requests.cpu" $key) -}}
{{- end -}}
{{- $_ := set $set "key" $key -}}
{{- $_ := set $set "grace" $grace -}}
{{- $_ := set $set "fullname" (include "tasklane.workers.fullname" (list $root $set.name)) -}}
{{- $_ := set $set "origin" $origin -}}
{{- $sets = append $sets $set -}}
{{- end -}}
{{- toJson $sets -}}
{{- end -}}

{{/*
Time limits per queue from the worker sets (JSON: queue -> {soft, hard, set}). Every process reads them from the
ConfigMap, so two sets claiming one queue must agree on its limits.
*/}}
{{- define "tasklane.workers.queueLimits" -}}
{{- $limits := dict -}}
{{- range $set := include "tasklane.workers.sets" . | fromJsonArray -}}
{{- range $queue := $set.queues -}}
{{- $mine := dict "soft" (int $set.softTimeLimit) "hard" (int $set.hardTimeLimit) "set" $set.key -}}
{{- with get $limits $queue -}}
{{- if or (ne (int .soft) $mine.soft) (ne (int .hard) $mine.hard) -}}
{{- fail (printf "queue %q has different time limits in %s (soft %d, hard %d) and %s (soft %d, hard %d); every process reads one limit per queue, so sets sharing a queue must agree" $queue .set (int .soft) (int .hard) $set.key $mine.soft $mine.hard) -}}
{{- end -}}
{{- else -}}
{{- $_ := set $limits $queue $mine -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $limits -}}
{{- end -}}

{{/*
The Secret and key of each secret setting (JSON: variable -> {name, key, optional}). Which Secret holds what depends
on bundled vs external services and on the existingSecret values; the chart's own Secret holds the rest.
*/}}
{{- define "tasklane.secretRefs" -}}
{{- $own := include "tasklane.secrets.fullname" . -}}
{{- $refs := dict -}}
{{- if .Values.postgresql.enabled -}}
{{- $_ := set $refs "TASKLANE_DATABASE_URL" (dict "name" $own "key" "database-url" "optional" false) -}}
{{- else if .Values.externalDatabase.url -}}
{{- $_ := set $refs "TASKLANE_DATABASE_URL" (dict "name" $own "key" "database-url" "optional" false) -}}
{{- else if .Values.externalDatabase.existingSecret -}}
{{- $_ := set $refs "TASKLANE_DATABASE_URL" (dict "name" .Values.externalDatabase.existingSecret "key" .Values.externalDatabase.existingSecretKey "optional" false) -}}
{{- else -}}
{{- fail "externalDatabase.url (or externalDatabase.existingSecret) is required when postgresql.enabled is false" -}}
{{- end -}}
{{- $redis := .Values.externalRedis -}}
{{- if .Values.redis.enabled -}}
{{- $_ := set $refs "TASKLANE_BROKER_URL" (dict "name" $own "key" "broker-url" "optional" false) -}}
{{- else if $redis.url -}}
{{- $_ := set $refs "TASKLANE_BROKER_URL" (dict "name" $own "key" "broker-url" "optional" false) -}}
{{- if $redis.resultBackendUrl -}}
{{- $_ := set $refs "TASKLANE_RESULT_BACKEND_URL" (dict "name" $own "key" "result-backend-url" "optional" false) -}}
{{- end -}}
{{- if $redis.beatRedisUrl -}}
{{- $_ := set $refs "TASKLANE_BEAT_REDIS_URL" (dict "name" $own "key" "beat-redis-url" "optional" false) -}}
{{- end -}}
{{- else if $redis.existingSecret -}}
{{- $_ := set $refs "TASKLANE_BROKER_URL" (dict "name" $redis.existingSecret "key" $redis.keys.url "optional" false) -}}
{{- $_ := set $refs "TASKLANE_RESULT_BACKEND_URL" (dict "name" $redis.existingSecret "key" $redis.keys.resultBackendUrl "optional" true) -}}
{{- $_ := set $refs "TASKLANE_BEAT_REDIS_URL" (dict "name" $redis.existingSecret "key" $redis.keys.beatRedisUrl "optional" true) -}}
{{- else -}}
{{- fail "externalRedis.url (or externalRedis.existingSecret) is required when redis.enabled is false" -}}
{{- end -}}
{{- $secrets := .Values.secrets -}}
{{- if $secrets.existingSecret -}}
{{- $_ := set $refs "TASKLANE_SIGNING_SECRET" (dict "name" $secrets.existingSecret "key" $secrets.keys.signingSecret "optional" false) -}}
{{- $_ := set $refs "TASKLANE_PAYSTACK_SECRET_KEY" (dict "name" $secrets.existingSecret "key" $secrets.keys.paystackSecretKey "optional" true) -}}
{{- $_ := set $refs "TASKLANE_SMTP_PASSWORD" (dict "name" $secrets.existingSecret "key" $secrets.keys.smtpPassword "optional" (not .Values.config.smtp.username)) -}}
{{- $_ := set $refs "TASKLANE_SENTRY_DSN" (dict "name" $secrets.existingSecret "key" $secrets.keys.sentryDsn "optional" true) -}}
{{- else -}}
{{- $_ := set $refs "TASKLANE_SIGNING_SECRET" (dict "name" $own "key" $secrets.keys.signingSecret "optional" false) -}}
{{- if $secrets.paystackSecretKey -}}
{{- $_ := set $refs "TASKLANE_PAYSTACK_SECRET_KEY" (dict "name" $own "key" $secrets.keys.paystackSecretKey "optional" false) -}}
{{- end -}}
{{- if $secrets.smtpPassword -}}
{{- $_ := set $refs "TASKLANE_SMTP_PASSWORD" (dict "name" $own "key" $secrets.keys.smtpPassword "optional" false) -}}
{{- else if .Values.config.smtp.username -}}
{{- fail "secrets.smtpPassword is required when config.smtp.username is set (or keep it in secrets.existingSecret)" -}}
{{- end -}}
{{- if $secrets.sentryDsn -}}
{{- $_ := set $refs "TASKLANE_SENTRY_DSN" (dict "name" $own "key" $secrets.keys.sentryDsn "optional" false) -}}
{{- end -}}
{{- end -}}
{{- toJson $refs -}}
{{- end -}}

{{/*
Environment of every Tasklane container besides the ConfigMap: each secret setting from its Secret, then the pod's
name and namespace (downward API) as OpenTelemetry resource attributes, with tracing.resourceAttributes.
*/}}
{{- define "tasklane.env" -}}
{{- $env := list -}}
{{- range $name, $ref := include "tasklane.secretRefs" . | fromJson -}}
{{- $secretRef := dict "name" $ref.name "key" $ref.key -}}
{{- if $ref.optional -}}
{{- $_ := set $secretRef "optional" true -}}
{{- end -}}
{{- $env = append $env (dict "name" $name "valueFrom" (dict "secretKeyRef" $secretRef)) -}}
{{- end -}}
{{- $env = append $env (dict "name" "K8S_POD_NAME" "valueFrom" (dict "fieldRef" (dict "fieldPath" "metadata.name"))) -}}
{{- $env = append $env (dict "name" "K8S_NAMESPACE_NAME" "valueFrom" (dict "fieldRef" (dict "fieldPath" "metadata.namespace"))) -}}
{{- $attributes := list "k8s.pod.name=$(K8S_POD_NAME)" "k8s.namespace.name=$(K8S_NAMESPACE_NAME)" -}}
{{- range $key, $value := .Values.tracing.resourceAttributes -}}
{{- $attributes = append $attributes (printf "%s=%s" $key $value) -}}
{{- end -}}
{{- $env = append $env (dict "name" "OTEL_RESOURCE_ATTRIBUTES" "value" (join "," $attributes)) -}}
{{- toYaml $env -}}
{{- end -}}

{{/*
The `metrics` container port of a Tasklane process that serves /metrics (config.metrics.port; none when 0).
*/}}
{{- define "tasklane.metricsPort" -}}
{{- if gt (int .Values.config.metrics.port) 0 -}}
- name: metrics
  containerPort: {{ .Values.config.metrics.port }}
  protocol: TCP
{{- end -}}
{{- end -}}

{{/*
envFrom of every Tasklane container: the shared ConfigMap of non-secret settings.
*/}}
{{- define "tasklane.envFrom" -}}
- configMapRef:
    name: {{ include "tasklane.config.fullname" . }}
{{- end -}}

{{/*
Pod annotations that roll the pods when the settings change.
*/}}
{{- define "tasklane.checksumAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/config/config-configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secrets/secrets-secret.yaml") . | sha256sum }}
{{- end -}}

{{/*
Init container of every workload: waits until the database is at this release's schema head, so no pod runs
against an older schema. Called with (list $ image).
*/}}
{{- define "tasklane.waitForMigrations" -}}
{{- $root := index . 0 -}}
- name: wait-for-migrations
  image: {{ index . 1 }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  command: ["tasklane", "db", "wait", "--timeout", {{ $root.Values.migrations.waitTimeout | quote }}]
  envFrom:
    {{- include "tasklane.envFrom" $root | nindent 4 }}
  env:
    {{- include "tasklane.env" $root | nindent 4 }}
  securityContext:
    {{- include "tasklane.containerSecurityContext" $root | nindent 4 }}
  resources:
    {{- toYaml $root.Values.migrations.resources | nindent 4 }}
  volumeMounts:
    {{- include "tasklane.tmpVolumeMount" $root | nindent 4 }}
{{- end -}}

{{/*
Redis connection details KEDA needs (JSON: type redis|redis-sentinel, address(es), databaseIndex, enableTLS,
passwordSecret {name,key}, sentinelMaster), from the bundled Redis, externalRedis.url, or externalRedis.keda.
*/}}
{{- define "tasklane.keda.redis" -}}
{{- $own := include "tasklane.secrets.fullname" . -}}
{{- $redis := .Values.externalRedis -}}
{{- $out := dict "type" "redis" "databaseIndex" 0 "enableTLS" false "passwordSecret" (dict "name" "" "key" "") -}}
{{- if .Values.redis.enabled -}}
{{- $_ := set $out "address" (printf "%s:6379" (include "tasklane.redis.fullname" .)) -}}
{{- $_ := set $out "passwordSecret" (dict "name" $own "key" "redis-password") -}}
{{- else if $redis.url -}}
{{- $parts := splitList ";" $redis.url -}}
{{- $first := urlParse (first $parts) -}}
{{- if eq $first.scheme "sentinel" -}}
{{- if not $redis.sentinelMaster -}}
{{- fail "externalRedis.sentinelMaster is required with a sentinel:// externalRedis.url" -}}
{{- end -}}
{{- $addresses := list -}}
{{- range $parts -}}
{{- $addresses = append $addresses (urlParse .).host -}}
{{- end -}}
{{- $_ := set $out "type" "redis-sentinel" -}}
{{- $_ := set $out "address" (join "," $addresses) -}}
{{- $_ := set $out "sentinelMaster" $redis.sentinelMaster -}}
{{- else -}}
{{- $_ := set $out "address" (ternary $first.host (printf "%s:6379" $first.host) (contains ":" $first.host)) -}}
{{- $_ := set $out "enableTLS" (eq $first.scheme "rediss") -}}
{{- end -}}
{{- $db := trimPrefix "/" $first.path -}}
{{- if $db -}}
{{- $_ := set $out "databaseIndex" (atoi $db) -}}
{{- end -}}
{{- if contains ":" $first.userinfo -}}
{{- $_ := set $out "passwordSecret" (dict "name" $own "key" "redis-password") -}}
{{- end -}}
{{- else -}}
{{- if not $redis.keda.address -}}
{{- fail "externalRedis.keda.address is required for autoscaling.type keda when the broker URL is in externalRedis.existingSecret" -}}
{{- end -}}
{{- $_ := set $out "address" $redis.keda.address -}}
{{- $_ := set $out "databaseIndex" $redis.keda.databaseIndex -}}
{{- $_ := set $out "enableTLS" $redis.keda.enableTLS -}}
{{- $_ := set $out "passwordSecret" $redis.keda.passwordSecret -}}
{{- if $redis.sentinelMaster -}}
{{- $_ := set $out "type" "redis-sentinel" -}}
{{- $_ := set $out "sentinelMaster" $redis.sentinelMaster -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/*
Whether any worker set scales with KEDA.
*/}}
{{- define "tasklane.keda.used" -}}
{{- range include "tasklane.workers.sets" . | fromJsonArray -}}
{{- if eq .autoscaling.type "keda" -}}true{{- end -}}
{{- end -}}
{{- end -}}

{{/*
A number as the settings expect it: integers without the exponent Helm's float64 values print above a million
(12345678 -> "12345678", not "1.2345678e+07"); fractions as they are.
*/}}
{{- define "tasklane.num" -}}
{{- if eq (float64 .) (float64 (int64 .)) -}}
{{- int64 . -}}
{{- else -}}
{{- . -}}
{{- end -}}
{{- end -}}

{{/*
Name of the PodMonitor, and so of the scrape job (`<namespace>/<name>`) the alerts and the dashboard select by.
*/}}
{{- define "tasklane.monitoring.fullname" -}}
{{- include "tasklane.componentName" (list . "metrics") -}}
{{- end -}}

{{/*
The PromQL label matcher for this release's scrape job (the PodMonitor's), inside braces of an expression.
*/}}
{{- define "tasklane.monitoring.job" -}}
{{- printf "job=%q" (printf "%s/%s" .Release.Namespace (include "tasklane.monitoring.fullname" .)) -}}
{{- end -}}
