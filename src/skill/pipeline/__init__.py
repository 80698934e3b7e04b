"""The deferred path's core: one pipeline for every style (parse -> adapter -> bulb semantics ->
event -> outbox); the style decides only the step in the middle. No AWS imports here."""

from skill.pipeline._answers import Answers
from skill.pipeline._pipeline import Pipeline, PipelineServices
from skill.pipeline._poll import PollHandler
from skill.pipeline._push import PushHandler
from skill.pipeline._styles import STRATEGIES, StyleStrategy
from skill.pipeline._sweep import Sweep

__all__ = [
    "STRATEGIES",
    "Answers",
    "Pipeline",
    "PipelineServices",
    "PollHandler",
    "PushHandler",
    "StyleStrategy",
    "Sweep",
]
