"""What every Tasklane process reports about itself, configured once per process at the right moment.

- ``tracing``: OpenTelemetry traces over OTLP/HTTP, configured by the standard ``OTEL_*`` variables, off
  when no endpoint is set; the instrumentations do the work, and a trace's context rides on task messages
  and task records so one trace follows a request to its last email.
- ``logs``: one log format for every process (``TASKLANE_LOG_FORMAT``), with the trace, task and tenant.
- ``errors``: Sentry (``TASKLANE_SENTRY_DSN``), with beat's entries as cron monitors and secrets scrubbed.
- ``metrics``: Prometheus metrics under the names SREs already chart (celery-exporter's for tasks), served
  on ``TASKLANE_METRICS_PORT`` by each process that owns a pool (gunicorn's master, a worker's main process).
- ``context``: the tenant a process is working for now, for logs and error reports.

Each process calls these from its own start-up hooks: gunicorn's ``post_fork`` and ``when_ready`` (the API),
Celery's worker signals (``tasklane.worker``), ``beat_init`` (beat). Tracing is never configured in a process
that will fork afterwards: the exporter's thread would not survive into the children.
"""
