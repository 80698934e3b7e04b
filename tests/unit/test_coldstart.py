"""The collector is paused for a Lambda cold start and resumes, frozen, after the first
invocation (``skill.coldstart``); outside Lambda nothing changes."""

from __future__ import annotations

import gc
import importlib
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from skill import coldstart

HANDLER_MODULES = [
    "skill.handlers.dispatcher",
    "skill.handlers.entrypoint",
    "skill.handlers.linking_pages",
    "skill.handlers.notifications",
    "skill.handlers.poller",
    "skill.handlers.processors.async_",
    "skill.handlers.processors.optimistic",
    "skill.handlers.processors.polling",
    "skill.handlers.processors.sync",
    "skill.handlers.sweep",
    "skill.handlers.sweep_scheduler",
]


@pytest.fixture
def collector() -> Iterator[None]:
    """Whatever a test does to the collector is undone after it."""
    was_enabled = gc.isenabled()
    yield
    coldstart.resume()
    gc.unfreeze()
    if was_enabled:
        gc.enable()


def test_outside_lambda_nothing_is_paused(collector: None, monkeypatch: pytest.MonkeyPatch) -> None:
    freezes: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(1))
    assert coldstart.pause(environ={}) is False
    assert gc.isenabled()
    assert coldstart.resumes_after_first_call(lambda: "answer")() == "answer"
    assert gc.isenabled()
    assert freezes == []  # nothing was paused: nothing is frozen


def test_in_lambda_the_first_call_resumes_with_the_cold_start_frozen(
    collector: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    freezes: list[int] = []
    real_freeze = gc.freeze

    def counted_freeze() -> None:
        freezes.append(1)
        real_freeze()

    monkeypatch.setattr(gc, "freeze", counted_freeze)
    assert coldstart.pause(environ={"AWS_LAMBDA_FUNCTION_NAME": "bulb-skill-sync"}) is True
    assert not gc.isenabled()
    calls: list[bool] = []

    @coldstart.resumes_after_first_call
    def handler(event: dict[str, str], context: object) -> str:
        calls.append(gc.isenabled())
        return event["name"]

    assert handler({"name": "first"}, None) == "first"
    assert calls == [False]  # the first invocation itself runs paused
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0  # what the cold start built is out of later collections
    assert handler({"name": "second"}, None) == "second"
    assert calls == [False, True]
    assert freezes == [1]  # frozen once, by the first call


def test_a_first_call_that_raises_resumes_too(collector: None) -> None:
    coldstart.pause(environ={"AWS_LAMBDA_FUNCTION_NAME": "bulb-skill-sweep"})

    @coldstart.resumes_after_first_call
    def handler(event: object, context: object) -> None:
        raise RuntimeError("vendor down")

    with pytest.raises(RuntimeError):
        handler({}, None)
    assert gc.isenabled()


@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_every_lambda_handler_resumes_after_its_first_call(module: str) -> None:
    handler = importlib.import_module(module).handler
    assert handler.__wrapped__.__name__.endswith("handler")  # resumes_after_first_call's wrapper


def test_importing_a_handler_module_in_lambda_pauses_the_collector() -> None:
    code = (
        "import gc, skill.handlers.sweep_scheduler as m; "
        "print(gc.isenabled(), m.handler.__wrapped__ is not None)"
    )
    env = {**os.environ, "AWS_LAMBDA_FUNCTION_NAME": "bulb-skill-sweep-scheduler"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "True"]
    env.pop("AWS_LAMBDA_FUNCTION_NAME")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["True", "True"]
