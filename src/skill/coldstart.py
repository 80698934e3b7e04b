"""The garbage collector during a cold start: paused until the first invocation has answered.

A cold start imports the SDK, pydantic and the project and builds the function's services:
some 130,000 objects that live as long as the container, of which only about 500 are garbage
cycles. CPython's collector still walks them as they are made (about 50 young and 4 older
collections, 25-50 ms of CPU per cold start: ``make bench``, docs/benchmarks.md). So, in
Lambda, importing a handler module (``skill.handlers``) pauses collection, and the handler's
first invocation resumes it once it has answered, with what was built until then frozen
(``gc.freeze``: left out of later collections, so a warm invocation's collections walk only
its own objects). The garbage cycles made until then are frozen too and never freed: about 500
objects in each handler's measured first invocation, well under a megabyte; the first
invocation itself runs with the collector paused, so a sweep whose first batch is large leaves
more, bounded by that one invocation.

Outside Lambda (tests, the local stack, the linking pages served locally) nothing changes:
``AWS_LAMBDA_FUNCTION_NAME`` is how a process knows it is a Lambda function.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

Handler = TypeVar("Handler", bound=Callable[..., Any])

_paused = False


def in_lambda(environ: Mapping[str, str] = os.environ) -> bool:
    """True in a Lambda function's process (the runtime sets the function's name)."""
    return bool(environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def pause(environ: Mapping[str, str] = os.environ) -> bool:
    """Stop automatic collection for the cold start; True when paused (only in Lambda)."""
    global _paused  # noqa: PLW0603 - one collector per process
    if in_lambda(environ) and gc.isenabled():
        gc.disable()
        _paused = True
    return _paused


def resume() -> None:
    """Freeze what the cold start built and collect automatically again (once; no-op when
    nothing was paused)."""
    global _paused  # noqa: PLW0603 - one collector per process
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def resumes_after_first_call(handler: Handler) -> Handler:
    """``handler``, resuming collection when its first call has returned or raised."""
    called = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal called
        if called:
            return handler(*args, **kwargs)
        called = True
        try:
            return handler(*args, **kwargs)
        finally:
            resume()

    return wrapper  # type: ignore[return-value]
