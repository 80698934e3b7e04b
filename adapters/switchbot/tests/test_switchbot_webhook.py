"""Webhook pushes (SwitchBot README, "Webhook"): verification, parsing, and registration."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qsl, urlsplit

import pytest
from switchbot_support import BASE, CREDENTIAL, OPEN_TOKEN, context

from bulb_skill_switchbot import account_id, create
from skill.bulbs import Color
from skill.errors import EndpointUnreachable, InvalidAuthorizationCredential, InvalidNotification
from skill.plugins import Notification, WebhookRegistrar, WebhookRequest
from skill.plugins._contract import SingleWebhookVendor  # not re-exported by skill.plugins (yet)

ACCOUNT = account_id(CREDENTIAL)
HOOK_BASE = "https://hooks.example.com/webhooks/switchbot"

# The Color Bulb event exactly as devices/lighting/color-bulb.md shows it (with a real MAC).
BULB_EVENT = {
    "eventType": "changeReport",
    "eventVersion": "1",
    "context": {
        "deviceType": "WoBulb",
        "deviceMac": "84F70353A411",
        "powerState": "ON",
        "online": True,
        "brightness": 10,
        "color": "255:245:235",
        "colorTemperature": 3500,
        "timeOfSample": 123456789,
    },
}


def ok(body: object = None) -> dict:
    return {"statusCode": 100, "body": {} if body is None else body, "message": ""}


def push(adapter, event: object, *, query: dict | None = None, body: bytes | None = None):
    if query is None:
        query = dict(parse_qsl(urlsplit(adapter.webhook_url(HOOK_BASE, ACCOUNT)).query))
    raw = body if body is not None else json.dumps(event).encode()
    return adapter.parse_notification(
        WebhookRequest(
            headers={"content-type": "application/json"},
            body=raw,
            query=query,
            path="/webhooks/switchbot",
        )
    )


# --- good pushes ----------------------------------------------------------------------------


def test_a_colour_bulb_push_becomes_a_notification(adapter):
    [notification] = push(adapter, BULB_EVENT)
    assert isinstance(notification, Notification)
    assert notification.device_id == "84F70353A411"
    assert notification.reference is None and notification.user_id == ACCOUNT
    state = notification.state
    assert state.on and state.brightness == 10 and state.reachable
    assert state.color_temperature == 3500
    assert state.color is not None and abs(state.color.hue - 30) < 1


def test_a_mac_with_colons_maps_to_the_device_id(adapter):
    event = json.loads(json.dumps(BULB_EVENT))
    event["context"]["deviceMac"] = "84:f7:03:53:a4:11"
    [notification] = push(adapter, event)
    assert notification.device_id == "84F70353A411"


def test_a_strip_light_push_has_colour_and_no_temperature(adapter):
    event = {
        "eventType": "changeReport",
        "eventVersion": "1",
        "context": {
            "deviceType": "WoStrip",
            "deviceMac": "C0FFEE000001",
            "powerState": "OFF",
            "brightness": 10,
            "color": "0:0:255",
            "timeOfSample": 123456789,
        },
    }
    [notification] = push(adapter, event)
    state = notification.state
    assert not state.on and state.color == Color(hue=240, saturation=1, brightness=1)
    assert state.color_temperature is None and state.color_mode == "color"


def test_a_ceiling_light_push_reports_white_only(adapter):
    event = {
        "eventType": "changeReport",
        "eventVersion": "1",
        "context": {
            "deviceType": "WoCeiling",
            "deviceMac": "C0FFEE000002",
            "powerState": "ON",
            "online": False,
            "brightness": 10,
            "colorTemperature": 3500,
            "timeOfSample": 123456789,
        },
    }
    [notification] = push(adapter, event)
    assert notification.state.color is None
    assert notification.state.color_mode == "temperature"
    assert notification.state.reachable is False


def test_a_newer_light_pushes_its_product_name(adapter):
    event = {
        "eventType": "changeReport",
        "eventVersion": "1",
        "context": {
            "brightness": 100,
            "deviceMac": "3C842777C07E",
            "deviceType": "Candle Warmer Lamp",
            "powerState": "ON",
            "timeOfSample": 1759136920594,
        },
    }
    [notification] = push(adapter, event)
    assert notification.device_id == "3C842777C07E" and notification.state.brightness == 100


def test_a_push_about_a_device_that_is_not_a_light_is_ignored(adapter):
    meter = {
        "eventType": "changeReport",
        "eventVersion": "1",
        "context": {
            "deviceType": "WoMeter",
            "deviceMac": "C0FFEE000009",
            "temperature": 22.5,
            "scale": "CELSIUS",
            "humidity": 31,
            "battery": 100,
            "timeOfSample": 123456789,
        },
    }
    assert push(adapter, meter) == []


def test_a_push_of_an_unknown_device_type_is_ignored(adapter):
    event = json.loads(json.dumps(BULB_EVENT))
    event["context"]["deviceType"] = "WoSomethingNew"
    assert push(adapter, event) == []


# --- verification ---------------------------------------------------------------------------


def test_missing_key_is_rejected(adapter):
    with pytest.raises(InvalidNotification) as caught:
        push(adapter, BULB_EVENT, query={"account": ACCOUNT})
    assert caught.value.status == 401


def test_missing_account_is_rejected(adapter):
    with pytest.raises(InvalidNotification) as caught:
        push(adapter, BULB_EVENT, query={})
    assert caught.value.status == 401


def test_wrong_key_is_rejected(adapter):
    with pytest.raises(InvalidNotification) as caught:
        push(adapter, BULB_EVENT, query={"account": ACCOUNT, "key": "0" * 64})
    assert caught.value.status == 401


def test_one_accounts_key_cannot_vouch_for_another_account(adapter):
    mine = dict(parse_qsl(urlsplit(adapter.webhook_url(HOOK_BASE, ACCOUNT)).query))
    other = "f" * 32
    with pytest.raises(InvalidNotification):
        push(adapter, BULB_EVENT, query={"account": other, "key": mine["key"]})


def test_a_key_made_with_another_deployments_secret_is_rejected():
    theirs = create(context(secrets={"SWITCHBOT_WEBHOOK_SECRET": "another-deployment-secret-xyz"}))
    ours = create(context())
    query = dict(parse_qsl(urlsplit(theirs.webhook_url(HOOK_BASE, ACCOUNT)).query))
    with pytest.raises(InvalidNotification):
        push(ours, BULB_EVENT, query=query)


def test_without_a_configured_secret_nothing_is_accepted():
    adapter = create(context(secrets={}))
    with pytest.raises(InvalidNotification) as caught:
        push(adapter, BULB_EVENT, query={"account": ACCOUNT, "key": "a" * 64})
    assert caught.value.status == 503


def test_a_too_short_secret_is_refused():
    adapter = create(context(secrets={"SWITCHBOT_WEBHOOK_SECRET": "short"}))
    with pytest.raises(InvalidNotification) as caught:
        push(adapter, BULB_EVENT, query={"account": ACCOUNT, "key": "a" * 64})
    assert caught.value.status == 503


# --- bad bodies -----------------------------------------------------------------------------


def test_an_oversized_body_is_rejected(adapter):
    with pytest.raises(InvalidNotification) as caught:
        push(adapter, None, body=b"{" + b" " * (64 * 1024) + b"}")
    assert caught.value.status == 413


@pytest.mark.parametrize(
    "body", [b"{not json", b"\xff\xfe\x00", b""], ids=["syntax", "bytes", "empty"]
)
def test_a_body_that_is_not_json_is_rejected(adapter, body):
    with pytest.raises(InvalidNotification) as caught:
        push(adapter, None, body=body)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "event",
    [
        [],
        {**BULB_EVENT, "eventType": "deviceDeleted"},
        {"eventType": "changeReport", "eventVersion": "1"},
        {"eventType": "changeReport", "context": "WoBulb"},
        {"eventType": "changeReport", "context": {"deviceType": "WoBulb"}},
        {"eventType": "changeReport", "context": {**BULB_EVENT["context"], "deviceMac": 42}},
        {"eventType": "changeReport", "context": {**BULB_EVENT["context"], "deviceMac": "nope"}},
        {"eventType": "changeReport", "context": {**BULB_EVENT["context"], "powerState": "DIM"}},
        {
            "eventType": "changeReport",
            "context": {k: v for k, v in BULB_EVENT["context"].items() if k != "powerState"},
        },
        {"eventType": "changeReport", "context": {**BULB_EVENT["context"], "brightness": "lots"}},
        {"eventType": "changeReport", "context": {**BULB_EVENT["context"], "color": "1:2"}},
    ],
    ids=[
        "array",
        "wrong-event-type",
        "no-context",
        "context-not-object",
        "no-mac",
        "mac-not-string",
        "mac-not-mac",
        "bad-power",
        "no-power",
        "bad-brightness",
        "bad-colour",
    ],
)
def test_unknown_shapes_are_rejected(adapter, event):
    with pytest.raises(InvalidNotification) as caught:
        push(adapter, event)
    assert caught.value.status == 400


# --- registration ---------------------------------------------------------------------------


def test_webhook_url_keeps_the_base_and_adds_account_and_key(adapter):
    url = adapter.webhook_url(f"{HOOK_BASE}?stage=prod", ACCOUNT)
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    assert url.startswith(HOOK_BASE)
    assert query["stage"] == "prod" and query["account"] == ACCOUNT and len(query["key"]) == 64


def test_register_webhook_sets_up_the_account_url_for_all_devices(adapter, api):
    api.post(f"{BASE}/webhook/queryWebhook", json=ok({"urls": []}))
    api.post(f"{BASE}/webhook/setupWebhook", json=ok())
    url = adapter.register_webhook(CREDENTIAL, HOOK_BASE)
    assert url == adapter.webhook_url(HOOK_BASE, ACCOUNT)
    assert json.loads(api.calls[0].request.body) == {"action": "queryUrl"}
    assert json.loads(api.calls[1].request.body) == {
        "action": "setupWebhook",
        "url": url,
        "deviceList": "ALL",
    }
    assert api.calls[1].request.headers["Authorization"] == OPEN_TOKEN
    assert "sign" in api.calls[1].request.headers


def test_register_webhook_is_idempotent(adapter, api):
    url = adapter.webhook_url(HOOK_BASE, ACCOUNT)
    api.post(f"{BASE}/webhook/queryWebhook", json=ok({"urls": [url]}))
    assert adapter.register_webhook(CREDENTIAL, HOOK_BASE) == url
    assert len(api.calls) == 1


def test_update_and_delete_webhook_send_the_documented_bodies(adapter, api):
    api.post(f"{BASE}/webhook/updateWebhook", json=ok())
    api.post(f"{BASE}/webhook/deleteWebhook", json=ok())
    adapter.update_webhook(CREDENTIAL, "https://hooks.example.com/x", enable=False)
    adapter.delete_webhook(CREDENTIAL, "https://hooks.example.com/x")
    assert json.loads(api.calls[0].request.body) == {
        "action": "updateWebhook",
        "config": {"url": "https://hooks.example.com/x", "enable": False},
    }
    assert json.loads(api.calls[1].request.body) == {
        "action": "deleteWebhook",
        "url": "https://hooks.example.com/x",
    }


# --- deregistration (the user disconnected SwitchBot) ---------------------------------------
# Bodies as README v1.1, "Webhook" documents them: "Get webhook configuration" (queryUrl ->
# {"statusCode": 100, "body": {"urls": [url1]}, "message": ""}) and "Delete webhook"
# (POST /v1.1/webhook/deleteWebhook {"action": "deleteWebhook", "url": url1} ->
# {"statusCode": 100, "body": {}, "message": ""}).

QUERY = f"{BASE}/webhook/queryWebhook"
DELETE = f"{BASE}/webhook/deleteWebhook"


def test_deregister_webhook_deletes_our_url_after_checking_it_is_there(adapter, api):
    ours = adapter.webhook_url(HOOK_BASE, ACCOUNT)
    api.post(QUERY, json=ok({"urls": [ours]}))
    api.post(DELETE, json=ok())
    adapter.deregister_webhook(CREDENTIAL, HOOK_BASE)
    assert [c.request.url for c in api.calls] == [QUERY, DELETE]
    assert json.loads(api.calls[0].request.body) == {"action": "queryUrl"}
    assert json.loads(api.calls[1].request.body) == {"action": "deleteWebhook", "url": ours}
    assert api.calls[1].request.headers["Authorization"] == OPEN_TOKEN
    assert "sign" in api.calls[1].request.headers


def test_deregister_webhook_leaves_another_url_alone(adapter, api):
    # The user pointed the account at their own server (or another deployment did): not ours.
    api.post(QUERY, json=ok({"urls": ["https://other.example/hook"]}))
    adapter.deregister_webhook(CREDENTIAL, HOOK_BASE)
    assert len(api.calls) == 1  # queried, nothing deleted (the strict mock has no delete)


def test_deregister_webhook_leaves_another_deployments_url_for_this_account_alone(api):
    theirs = create(context(secrets={"SWITCHBOT_WEBHOOK_SECRET": "another-deployment-secret-xyz"}))
    ours = create(context())
    api.post(QUERY, json=ok({"urls": [theirs.webhook_url(HOOK_BASE, ACCOUNT)]}))
    ours.deregister_webhook(CREDENTIAL, HOOK_BASE)
    assert len(api.calls) == 1


def test_deregister_webhook_without_any_url_is_a_no_op(adapter, api):
    api.post(QUERY, json=ok({"urls": []}))
    adapter.deregister_webhook(CREDENTIAL, HOOK_BASE)
    assert len(api.calls) == 1


def test_deregister_webhook_with_a_refused_credential_is_invalid_authorization(adapter, api):
    api.post(QUERY, json={"message": "Unauthorized"}, status=401)
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.deregister_webhook(CREDENTIAL, HOOK_BASE)
    assert len(api.calls) == 1


def test_a_failed_delete_surfaces_as_a_typed_error(adapter, api):
    api.post(QUERY, json=ok({"urls": [adapter.webhook_url(HOOK_BASE, ACCOUNT)]}))
    api.post(DELETE, json={"statusCode": 190, "body": {}, "message": "System error"})
    with pytest.raises(EndpointUnreachable):
        adapter.deregister_webhook(CREDENTIAL, HOOK_BASE)


def test_the_adapter_is_a_webhook_registrar(adapter):
    assert isinstance(adapter, WebhookRegistrar)


# --- one URL per account: never replaced without the user's word ---------------------------
# SwitchBot keeps one webhook URL per account (README v1.1, "Configure webhook"; setupWebhook
# while another URL is configured answers statusCode 190 "webhook is exist", SwitchBotAPI#393
# and #196). Payloads as README v1.1, "Webhook": queryUrl -> {"statusCode": 100, "body":
# {"urls": [url1]}, "message": ""}; setupWebhook {"action": "setupWebhook", "url": url1,
# "deviceList": "ALL"} and deleteWebhook {"action": "deleteWebhook", "url": url1} ->
# {"statusCode": 100, "body": {}, "message": ""}.

SETUP = f"{BASE}/webhook/setupWebhook"
THEIRS = "https://homebridge.example.net/switchbot/webhook"  # the user's other system
EXISTS = {"statusCode": 190, "body": {}, "message": "webhook is exist"}


def _bodies(api) -> list[dict]:
    return [json.loads(call.request.body) for call in api.calls]


def test_the_adapter_is_a_single_webhook_vendor(adapter):
    assert isinstance(adapter, SingleWebhookVendor)


def test_register_webhook_leaves_another_url_alone_and_registers_nothing(adapter, api, caplog):
    api.post(QUERY, json=ok({"urls": [THEIRS]}))
    with caplog.at_level(logging.INFO, logger="bulb_skill_switchbot._adapter"):
        assert adapter.register_webhook(CREDENTIAL, HOOK_BASE) == ""
    assert _bodies(api) == [{"action": "queryUrl"}]  # no setup, no delete
    assert any(
        r.levelno == logging.INFO and "another webhook URL" in r.message for r in caplog.records
    )
    assert THEIRS not in caplog.text and OPEN_TOKEN not in caplog.text


def test_register_webhook_at_every_discover_keeps_leaving_it_alone(adapter, api):
    api.post(QUERY, json=ok({"urls": [THEIRS]}))
    api.post(QUERY, json=ok({"urls": [THEIRS]}))
    assert adapter.register_webhook(CREDENTIAL, HOOK_BASE) == ""
    assert adapter.register_webhook(CREDENTIAL, HOOK_BASE) == ""
    assert [c.request.url for c in api.calls] == [QUERY, QUERY]


def test_register_webhook_does_not_replace_another_deployments_url_either(api):
    theirs = create(context(secrets={"SWITCHBOT_WEBHOOK_SECRET": "another-deployment-secret-xyz"}))
    ours = create(context())
    api.post(QUERY, json=ok({"urls": [theirs.webhook_url(HOOK_BASE, ACCOUNT)]}))
    assert ours.register_webhook(CREDENTIAL, HOOK_BASE) == ""
    assert len(api.calls) == 1


def test_register_webhook_when_another_url_appears_meanwhile_leaves_it(adapter, api):
    api.post(QUERY, json=ok({"urls": []}))
    api.post(SETUP, json=EXISTS)
    api.post(QUERY, json=ok({"urls": [THEIRS]}))
    assert adapter.register_webhook(CREDENTIAL, HOOK_BASE) == ""
    assert [c.request.url for c in api.calls] == [QUERY, SETUP, QUERY]


def test_register_webhook_when_a_concurrent_discover_set_ours_returns_it(adapter, api):
    ours = adapter.webhook_url(HOOK_BASE, ACCOUNT)
    api.post(QUERY, json=ok({"urls": []}))
    api.post(SETUP, json=EXISTS)
    api.post(QUERY, json=ok({"urls": [ours]}))
    assert adapter.register_webhook(CREDENTIAL, HOOK_BASE) == ours


def test_other_webhooks_lists_the_accounts_other_url(adapter, api):
    api.post(QUERY, json=ok({"urls": [THEIRS]}))
    assert adapter.other_webhooks(CREDENTIAL, HOOK_BASE) == [THEIRS]
    assert _bodies(api) == [{"action": "queryUrl"}]


@pytest.mark.parametrize("has_ours", [False, True], ids=["none", "only-ours"])
def test_other_webhooks_is_empty_without_another_url(adapter, api, has_ours):
    urls = [adapter.webhook_url(HOOK_BASE, ACCOUNT)] if has_ours else []
    api.post(QUERY, json=ok({"urls": urls}))
    assert adapter.other_webhooks(CREDENTIAL, HOOK_BASE) == []


def test_other_webhooks_counts_another_deployments_url_for_this_account(api):
    theirs = create(context(secrets={"SWITCHBOT_WEBHOOK_SECRET": "another-deployment-secret-xyz"}))
    url = theirs.webhook_url(HOOK_BASE, ACCOUNT)
    api.post(QUERY, json=ok({"urls": [url]}))
    assert create(context()).other_webhooks(CREDENTIAL, HOOK_BASE) == [url]


def test_replace_webhooks_deletes_the_other_url_then_sets_up_ours(adapter, api):
    ours = adapter.webhook_url(HOOK_BASE, ACCOUNT)
    api.post(QUERY, json=ok({"urls": [THEIRS]}))
    api.post(DELETE, json=ok())
    api.post(SETUP, json=ok())
    assert adapter.replace_webhooks(CREDENTIAL, HOOK_BASE) == ours
    assert [c.request.url for c in api.calls] == [QUERY, DELETE, SETUP]
    assert _bodies(api) == [
        {"action": "queryUrl"},
        {"action": "deleteWebhook", "url": THEIRS},
        {"action": "setupWebhook", "url": ours, "deviceList": "ALL"},
    ]
    for call in api.calls:
        assert call.request.headers["Authorization"] == OPEN_TOKEN
        assert "sign" in call.request.headers


def test_replace_webhooks_without_another_url_only_sets_up_ours(adapter, api):
    api.post(QUERY, json=ok({"urls": []}))
    api.post(SETUP, json=ok())
    ours = adapter.webhook_url(HOOK_BASE, ACCOUNT)
    assert adapter.replace_webhooks(CREDENTIAL, HOOK_BASE) == ours
    assert [c.request.url for c in api.calls] == [QUERY, SETUP]


def test_replace_webhooks_when_ours_is_already_there_changes_nothing(adapter, api):
    ours = adapter.webhook_url(HOOK_BASE, ACCOUNT)
    api.post(QUERY, json=ok({"urls": [ours]}))
    assert adapter.replace_webhooks(CREDENTIAL, HOOK_BASE) == ours
    assert len(api.calls) == 1


def test_replace_webhooks_that_still_meets_another_url_is_unreachable(adapter, api):
    api.post(QUERY, json=ok({"urls": [THEIRS]}))
    api.post(DELETE, json=ok())
    api.post(SETUP, json=EXISTS)
    api.post(QUERY, json=ok({"urls": ["https://third.example/hook"]}))
    with pytest.raises(EndpointUnreachable):
        adapter.replace_webhooks(CREDENTIAL, HOOK_BASE)


def test_replace_webhooks_stops_when_the_delete_fails(adapter, api):
    api.post(QUERY, json=ok({"urls": [THEIRS]}))
    api.post(DELETE, json={"statusCode": 190, "body": {}, "message": "System error"})
    with pytest.raises(EndpointUnreachable):
        adapter.replace_webhooks(CREDENTIAL, HOOK_BASE)
    assert [c.request.url for c in api.calls] == [QUERY, DELETE]  # nothing set up


def test_replace_webhooks_with_a_refused_credential_touches_nothing(adapter, api):
    api.post(QUERY, json={"message": "Unauthorized"}, status=401)
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.replace_webhooks(CREDENTIAL, HOOK_BASE)
    assert len(api.calls) == 1


def test_the_linking_pages_name_switchbot_and_say_where_the_pair_is(adapter):
    # SwitchBotAPI README, "Getting Started" (app V9.0 and later): Profile > Preferences >
    # About, tap App Version 10 times, Developer Options; "Open Token and Secret Key".
    assert adapter.display_name == "SwitchBot"
    help_text = adapter.credential_help
    for words in ("Profile > Preferences > About", "App Version", "Developer Options"):
        assert words in help_text
    assert "token" in help_text and "secret key" in help_text
