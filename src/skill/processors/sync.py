"""Lambda handler ``skill.processors.sync.handler``: the sync style's directives queue."""

from skill.plugins import Style
from skill.processors._lambda import make_handler

handler = make_handler(Style.SYNC)
