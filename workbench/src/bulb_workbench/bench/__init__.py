"""``make bench``: the performance suite (not part of ``make test``).

Run from the repository root: ``python -m bulb_workbench.bench.run`` (writes
``docs/benchmarks.md``).
"""

import json
import sys
from pathlib import Path
from typing import Any, TextIO


def emit_results(results: Any, stdout: TextIO | None = None) -> None:
    """What a section script (``cost.py``, ``e2e.py``, ``warm.py``) hands
    ``bulb_workbench.bench.run``: its
    results as JSON, in the file named by its first argument, else on ``stdout``."""
    text = json.dumps(results, indent=1)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text)
    else:
        (stdout or sys.stdout).write(text + "\n")
