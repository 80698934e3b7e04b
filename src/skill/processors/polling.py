"""Lambda handler ``skill.processors.polling.handler``: the polling style's directives queue."""

from skill.plugins import Style
from skill.processors._lambda import make_handler

handler = make_handler(Style.POLLING)
