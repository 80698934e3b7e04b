"""The Lambda handlers, one module per function, named in template.yaml and infra/*.yaml as
``skill.handlers.<module>.handler``.

Each is thin: it parses the event, calls the service ``skill.composition`` built for it, and
answers. It registers its SnapStart hooks at import (``skill.snapstart``).

Importing this package pauses the garbage collector in Lambda until a handler's first
invocation has answered (``skill.coldstart``).
"""

from skill import coldstart

coldstart.pause()
