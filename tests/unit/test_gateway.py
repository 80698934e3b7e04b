"""The event gateway client: what it sends, how it reads answers, which gateway a region uses."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from skill.aws.gateway import GatewayClient
from skill.config import GATEWAY_URLS, settings_from
from skill.ports import GatewayAnswer, GatewayUnreachable, Verdict, classify

URL = "https://api.amazonalexa.com/v3/events"
TOKEN = "Atza|gateway-test-token"
EVENT = {"event": {"header": {"namespace": "Alexa", "name": "Response"}, "payload": {}}}


def error_body(code: str, description: str = "explained") -> dict:
    return {
        "header": {"namespace": "System", "name": "Exception", "messageId": "m-1"},
        "payload": {"code": code, "description": description},
    }


ANSWERS = [
    (202, None, Verdict.ACCEPTED),
    (200, None, Verdict.ACCEPTED),
    (400, "INVALID_REQUEST_EXCEPTION", Verdict.REJECTED),
    (401, "INVALID_ACCESS_TOKEN_EXCEPTION", Verdict.REFRESH_TOKEN),
    (401, None, Verdict.REFRESH_TOKEN),
    (403, "SKILL_DISABLED_EXCEPTION", Verdict.FORGET_USER),
    (403, "SKILL_NEVER_ENABLED_EXCEPTION", Verdict.CONFIG_FAULT),
    (403, "INSUFFICIENT_PERMISSION_EXCEPTION", Verdict.CONFIG_FAULT),
    (403, None, Verdict.REJECTED),
    (404, "ACCOUNT_NOT_FOUND_EXCEPTION", Verdict.FORGET_USER),
    (404, "SKILL_NOT_FOUND_EXCEPTION", Verdict.FORGET_USER),
    (404, None, Verdict.REJECTED),  # a wrong URL must not make us forget anyone
    (413, "REQUEST_ENTITY_TOO_LARGE_EXCEPTION", Verdict.TOO_LARGE),
    (429, "THROTTLING_EXCEPTION", Verdict.RETRY),
    (500, "INTERNAL_SERVICE_EXCEPTION", Verdict.RETRY),
    (502, None, Verdict.RETRY),
    (503, "SERVICE_UNAVAILABLE_EXCEPTION", Verdict.RETRY),
    (418, None, Verdict.REJECTED),
]


@pytest.mark.parametrize(("status", "code", "verdict"), ANSWERS)
def test_each_gateway_answer_has_one_verdict(status, code, verdict):
    assert classify(status, code) is verdict
    assert GatewayAnswer(status, code).verdict is verdict


@responses.activate
def test_an_event_is_posted_as_json_with_the_bearer_token():
    responses.post(URL, status=202)
    answer = GatewayClient().send(URL, EVENT, TOKEN, timeout=2.5)

    assert answer == GatewayAnswer(202)
    [call] = responses.calls
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.request.headers["Content-Type"] == "application/json"
    assert json.loads(call.request.body) == EVENT
    assert call.request.req_kwargs["timeout"] == (2.0, 2.5)


@responses.activate
def test_a_short_timeout_also_bounds_the_connection():
    responses.post(URL, status=202)
    GatewayClient(connect_timeout=2.0).send(URL, EVENT, TOKEN, timeout=0.5)
    assert responses.calls[0].request.req_kwargs["timeout"] == (0.5, 0.5)


@responses.activate
def test_an_error_answer_carries_the_code_and_description():
    responses.post(URL, status=400, json=error_body("INVALID_REQUEST_EXCEPTION", "bad scope"))
    answer = GatewayClient().send(URL, EVENT, TOKEN, timeout=1)
    assert (answer.status, answer.code, answer.description) == (
        400,
        "INVALID_REQUEST_EXCEPTION",
        "bad scope",
    )
    assert answer.verdict is Verdict.REJECTED
    assert answer.describe() == "400 INVALID_REQUEST_EXCEPTION: bad scope"


@responses.activate
def test_retry_after_is_read_in_seconds():
    responses.post(
        URL, status=429, json=error_body("THROTTLING_EXCEPTION"), headers={"Retry-After": "3"}
    )
    assert GatewayClient().send(URL, EVENT, TOKEN, timeout=1).retry_after == 3.0


@responses.activate
def test_an_answer_that_is_not_json_still_has_a_status():
    responses.post(URL, status=503, body="<html>Service Unavailable</html>")
    answer = GatewayClient().send(URL, EVENT, TOKEN, timeout=1)
    assert (answer.status, answer.code, answer.verdict) == (503, None, Verdict.RETRY)


@pytest.mark.parametrize(
    "failure", [requests.ConnectionError("refused"), requests.ReadTimeout("slow")]
)
@responses.activate
def test_no_answer_is_gateway_unreachable_without_the_token(failure):
    responses.post(URL, body=failure)
    with pytest.raises(GatewayUnreachable) as raised:
        GatewayClient().send(URL, EVENT, TOKEN, timeout=1)
    assert TOKEN not in str(raised.value)


@responses.activate
def test_one_session_serves_every_send():
    session = requests.Session()
    responses.post(URL, status=202)
    client = GatewayClient(session)
    client.send(URL, EVENT, TOKEN, timeout=1)
    client.send(URL, EVENT, TOKEN, timeout=1)
    assert client._session is session
    assert len(responses.calls) == 2


@pytest.mark.parametrize(
    ("region", "url"),
    [
        ("NA", "https://api.amazonalexa.com/v3/events"),
        ("EU", "https://api.eu.amazonalexa.com/v3/events"),
        ("FE", "https://api.fe.amazonalexa.com/v3/events"),
    ],
)
def test_each_region_has_its_gateway(region, url):
    assert GATEWAY_URLS[region] == url
    assert settings_from({}).gateway_for(region) == url


def test_the_gateway_override_wins_for_every_region():
    config = settings_from({"GATEWAY_URL": "http://127.0.0.1:9000/v3/events"})
    assert {config.gateway_for(r) for r in ("NA", "EU", "FE")} == {
        "http://127.0.0.1:9000/v3/events"
    }
