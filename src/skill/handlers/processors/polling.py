"""Lambda handler ``skill.handlers.processors.polling.handler``: the polling style's directives
queue."""

from skill.handlers.processors._lambda import make_handler
from skill.plugins import Style

handler = make_handler(Style.POLLING)
