"""The deferred path's core: one pipeline for every style (parse -> adapter -> bulb semantics ->
event -> outbox); the style decides only the step in the middle. No AWS imports here."""

from typing import TYPE_CHECKING

from skill._lazy import lazy_exports

if TYPE_CHECKING:
    from skill.pipeline._answers import Answers
    from skill.pipeline._outcomes import DirectiveOutcome, PollOutcome
    from skill.pipeline._pipeline import Pipeline
    from skill.pipeline._poll import PollHandler
    from skill.pipeline._push import PushHandler
    from skill.pipeline._scheduler import SweepScheduler
    from skill.pipeline._services import PipelineServices
    from skill.pipeline._styles import STRATEGIES, StyleStrategy
    from skill.pipeline._sweep import SweepResult, SweepWorker

#: Each name's module, imported on first use: a cold start loads only what its handler uses
#: (a push needs neither the poller nor the sweep).
_WHERE = {
    "Answers": "_answers",
    "DirectiveOutcome": "_outcomes",
    "Pipeline": "_pipeline",
    "PipelineServices": "_services",
    "PollHandler": "_poll",
    "PollOutcome": "_outcomes",
    "PushHandler": "_push",
    "STRATEGIES": "_styles",
    "StyleStrategy": "_styles",
    "SweepResult": "_sweep",
    "SweepScheduler": "_scheduler",
    "SweepWorker": "_sweep",
}


__getattr__ = lazy_exports(__name__, _WHERE)

__all__ = [
    "STRATEGIES",
    "Answers",
    "DirectiveOutcome",
    "Pipeline",
    "PipelineServices",
    "PollHandler",
    "PollOutcome",
    "PushHandler",
    "StyleStrategy",
    "SweepResult",
    "SweepScheduler",
    "SweepWorker",
]
