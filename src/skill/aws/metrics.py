"""CloudWatch metrics through Powertools Metrics (EMF): the pipeline's ``count`` and the
dispatcher's ``skill.ports.Meter``. Both are flushed at the end of each invocation."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from skill.observability import metrics


def count(name: str, value: float) -> None:
    """Add to a Powertools (EMF) metric; flushed at the end of each invocation."""
    from aws_lambda_powertools.metrics import MetricUnit

    metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)


class PowertoolsMeter:
    """``skill.ports.Meter`` on Powertools Metrics (EMF). A metric with a dimension
    (``GatewayAnswers{status}``) is its own EMF document, so it does not give its dimension to
    the others. One thread at a time: the records of a batch are delivered concurrently, and
    Powertools' metric set is a plain dict (two first values of one metric: one is lost)."""

    _lock = threading.Lock()

    def count(self, name: str, dimensions: Mapping[str, str] | None = None) -> None:
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with self._lock:
            if not dimensions:
                metrics().add_metric(name=name, unit=MetricUnit.Count, value=1)
                return
            with single_metric(
                name=name, unit=MetricUnit.Count, value=1, namespace=metrics().namespace
            ) as metric:
                metric.add_dimension(name="service", value=str(metrics().service))
                for key, value in dimensions.items():
                    metric.add_dimension(name=key, value=value)

    def milliseconds(self, name: str, value: float) -> None:
        from aws_lambda_powertools.metrics import MetricUnit

        with self._lock:
            metrics().add_metric(name=name, unit=MetricUnit.Milliseconds, value=value)
