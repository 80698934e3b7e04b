"""Powertools Logger and Metrics shared by every handler module, created once per container.

The core logs through standard ``logging`` loggers under ``skill``; they get the Powertools
formatter (JSON, correlation id) here, so the core never imports Powertools.
"""

from __future__ import annotations

from functools import cache
from typing import Any

SERVICE = "bulb-skill"
NAMESPACE = "BulbSkill"


@cache
def logger() -> Any:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

    from skill.config import settings

    log = Logger(service=settings().service_name)
    copy_config_to_registered_loggers(source_logger=log, include={"skill"})
    return log


@cache
def metrics() -> Any:
    from aws_lambda_powertools import Metrics

    from skill.config import settings

    config = settings()
    return Metrics(namespace=config.metrics_namespace, service=config.service_name)


def correlation_id_of(directive: Any) -> str | None:
    """The Alexa messageId of a directive, the correlation id that follows it everywhere."""
    try:
        value = directive["header"]["messageId"]
    except (TypeError, KeyError):
        return None
    return value[:128] if isinstance(value, str) else None
