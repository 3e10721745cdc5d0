"""Guardrails: injection detection, answer quality scoring, block list and the ADK plugin."""
