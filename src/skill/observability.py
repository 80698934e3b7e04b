"""Powertools Logger and Metrics shared by every handler module, created once per container.

The core logs through standard ``logging`` loggers under ``skill``; they get the Powertools
formatter (JSON, correlation id) here, so the core never imports Powertools.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

SERVICE = "bulb-skill"
NAMESPACE = "BulbSkill"


@cache
def logger() -> Any:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

    log = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE))
    copy_config_to_registered_loggers(source_logger=log, include={"skill"})
    return log


@cache
def metrics() -> Any:
    from aws_lambda_powertools import Metrics

    return Metrics(
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE),
        service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE),
    )


def correlation_id_of(directive: Any) -> str | None:
    """The Alexa messageId of a directive, the correlation id that follows it everywhere."""
    try:
        value = directive["header"]["messageId"]
    except (TypeError, KeyError):
        return None
    return value[:128] if isinstance(value, str) else None
