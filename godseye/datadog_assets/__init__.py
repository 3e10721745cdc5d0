"""Godseye's Datadog assets as code: load, validate, plan and apply the JSON in `datadog/`.

`datadog/` itself holds JSON only (a Python package there would shadow the `datadog` library); the
code that reads it lives here.
"""

from godseye.datadog_assets.problems import Problem
from godseye.datadog_assets.validate import validate

__all__ = ["Problem", "validate"]
