"""Godseye telemetry: DogStatsD metrics, ddtrace APM spans and LLM Observability, all `DD_*`-configured."""
