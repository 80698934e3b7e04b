"""``skill serve`` as a user runs it: a subprocess that prints one JSON line of URLs on stdout,
serves the linking pages and the entrypoint's URL until interrupted, and ends cleanly on SIGINT
(and SIGTERM) within a few seconds."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"
KEYS = {"linking_pages", "entrypoint", "login", "simulator", "gateway", "demo_user"}


def first_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The first line on the process's stdout, waiting at most ``timeout`` seconds."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError(f"skill serve printed nothing in {timeout:g} s")
    return process.stdout.readline()


def ended(process: subprocess.Popen[str], timeout: float) -> tuple[int, str, str]:
    """(exit code, the rest of stdout, stderr) once the process ended."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
        raise AssertionError(
            f"skill serve did not end within {timeout:g} s:\n{stderr[-3000:]}"
        ) from None
    return process.returncode, stdout, stderr


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bulb_workbench.cli",
            "serve",
            "--latency",
            "0.01",
            "--transition",
            "0.2",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # env.json for sam local invoke: in the test's directory, not the repository's .aws-sam/
        env={**os.environ, "PYTHONUNBUFFERED": "1", "SKILL_ENV_JSON": str(tmp_path / "env.json")},
    )
    try:
        line = first_line(process, 30)
        assert line, f"skill serve ended early:\n{process.communicate()[1][-3000:]}"
        yield process, json.loads(line)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_serve_prints_its_urls_serves_the_pages_and_the_entrypoint_and_ends_on_sigint(
    serve: Any,
) -> None:
    process, urls = serve
    assert set(urls) == KEYS
    for key in KEYS - {"demo_user"}:
        assert str(urls[key]).startswith("http://127.0.0.1:"), (key, urls[key])
    assert urls["demo_user"]["username"] and urls["demo_user"]["password"]

    home = requests.get(urls["linking_pages"], timeout=10)
    assert home.status_code == 200
    assert "Connect your lights to Alexa" in home.text and 'href="/signin"' in home.text
    assert "frame-ancestors 'none'" in home.headers["Content-Security-Policy"]

    # the sign-in starts at the stand-in login, with the flow cookie (Secure, HttpOnly)
    signin = requests.get(urls["linking_pages"] + "signin", allow_redirects=False, timeout=10)
    assert signin.status_code == 303 and signin.headers["Location"].startswith(
        urls["login"] + "/oauth2/authorize?"
    )
    assert "HttpOnly" in signin.headers["Set-Cookie"] and "Secure" in signin.headers["Set-Cookie"]
    login = requests.get(signin.headers["Location"], timeout=10)
    assert login.status_code == 200 and "LOCAL STAND-IN" in login.text

    # a directive POSTed to the entrypoint's URL: demo-token becomes the demo user's token
    directive = json.loads((EVENTS / "Discover.json").read_text())
    answer = requests.post(urls["entrypoint"], json=directive, timeout=10)
    assert answer.status_code == 200, answer.text
    event = answer.json()["event"]
    assert event["header"]["name"] == "Discover.Response"
    assert event["payload"]["endpoints"]
    turn_on = json.loads((EVENTS / "TurnOn.sync.json").read_text())
    deferred = requests.post(urls["entrypoint"], json=turn_on, timeout=10).json()
    assert deferred["event"]["header"]["name"] == "DeferredResponse", deferred
    assert requests.post(urls["entrypoint"], data=b"not json", timeout=10).status_code == 400
    assert requests.get(urls["entrypoint"], timeout=10).status_code == 405

    began = time.monotonic()
    process.send_signal(signal.SIGINT)
    code, rest, stderr = ended(process, 10)
    took = time.monotonic() - began
    assert code == 0, stderr[-3000:]
    assert took < 5, f"SIGINT took {took:.1f} s to end skill serve"
    assert "Traceback" not in stderr, stderr[-3000:]
    assert "linking pages: http://127.0.0.1:" in stderr
    assert rest == "", f"stdout is only the JSON line, not also: {rest[:500]}"
    with pytest.raises(requests.ConnectionError):
        requests.get(urls["linking_pages"], timeout=2)


def test_serve_ends_on_sigterm_too(serve: Any) -> None:
    process, urls = serve
    assert requests.get(urls["linking_pages"], timeout=10).status_code == 200
    process.send_signal(signal.SIGTERM)
    code, _, stderr = ended(process, 10)
    assert code == 0, stderr[-3000:]


def test_serve_writes_env_json_pointing_each_function_at_the_running_stack(
    serve: Any, tmp_path: Path
) -> None:
    """Written before the URL line is printed; tests/unit/test_env_json.py checks every variable
    of every function, run the way SAM CLI would."""
    import boto3

    process, urls = serve
    env = json.loads((tmp_path / "env.json").read_text())
    assert {
        "Entrypoint/EntrypointFunction",
        "Dispatcher/DispatcherFunction",
        "SyncProcessor/ProcessorFunction",
        "AsyncProcessor/NotificationsFunction",
        "LinkingPages/LinkingFunction",
    } <= set(env)
    assert env["Dispatcher/DispatcherFunction"]["GATEWAY_URL"] == urls["gateway"]
    assert env["Entrypoint/EntrypointFunction"]["SIMULATOR_URL"] == urls["simulator"]
    linking = env["LinkingPages/LinkingFunction"]
    assert (
        linking["LINKING_BASE_URL"] == urls["linking_pages"].rstrip("/")
        and linking["COGNITO_DOMAIN"] == urls["login"]
    )
    entrypoint = env["Entrypoint/EntrypointFunction"]
    moto = {
        "endpoint_url": entrypoint["AWS_ENDPOINT_URL"],
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    boto3.client("dynamodb", **moto).describe_table(TableName=entrypoint["TOKENS_TABLE"])
    boto3.client("sqs", **moto).get_queue_attributes(
        QueueUrl=entrypoint["DIRECTIVES_QUEUE_SYNC_URL"]
    )
    boto3.client("secretsmanager", **moto).describe_secret(
        SecretId=linking["LINKING_CLIENT_SECRET_NAME"]
    )
    assert requests.get(entrypoint["COGNITO_JWKS_URL"], timeout=10).json()["keys"]
    discover = json.loads((tmp_path / "events" / "Discover.json").read_text())
    assert "demo-token" not in json.dumps(discover)
    answer = requests.post(urls["entrypoint"], json=discover, timeout=10).json()
    assert (
        answer["event"]["header"]["name"] == "Discover.Response"
    )  # the written token is the demo user's
    process.send_signal(signal.SIGINT)
    code, _, stderr = ended(process, 10)
    assert code == 0 and f"--env-vars {tmp_path / 'env.json'}" in stderr
