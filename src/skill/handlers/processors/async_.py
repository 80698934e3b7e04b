"""Lambda handler ``skill.handlers.processors.async_.handler``: the async style's directives queue
(``async`` is a Python keyword, hence the underscore)."""

from skill.handlers.processors._lambda import make_handler
from skill.plugins import Style

handler = make_handler(Style.ASYNC)
