"""Lambda handler ``skill.processors.async_.handler``: the async style's directives queue
(``async`` is a Python keyword, hence the underscore)."""

from skill.plugins import Style
from skill.processors._lambda import make_handler

handler = make_handler(Style.ASYNC)
