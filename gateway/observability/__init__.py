"""What operators see of the gateway: Prometheus metrics, OpenTelemetry traces, JSON logs.

None of it ever carries prompt or completion text, API keys or per-user identifiers.
"""
