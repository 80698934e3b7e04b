"""Lambda handler ``skill.handlers.processors.optimistic.handler``: the optimistic style's
directives queue."""

from skill.handlers.processors._lambda import make_handler
from skill.plugins import Style

handler = make_handler(Style.OPTIMISTIC)
