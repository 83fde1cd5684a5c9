"""Logger, metrics and tracer, created once for the process (Powertools reads its POWERTOOLS_* env)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics()
tracer = Tracer()
