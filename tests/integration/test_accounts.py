"""The skill's own users on the local stack: users of the local Cognito pool, their vendor
connections in the credentials vault, each credential shown to its own vendor only.

- the foreign-credential check itself fails when a vendor is shown what is not its own;
- two skill users who connected one vendor account both hear of a change made outside Alexa;
- a disconnect sends Alexa a schema-valid DeleteReport and leaves nothing of that connection;
- ``skill users list|disconnect|delete`` against the running stack (its environment);
- directives held on their queues, dumped, carry the user id and no credential.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bulb_workbench.local.schema import schema_errors
from bulb_workbench.local.simulator import VendorSimulator
from bulb_workbench.local.stack import LocalStack, accept_grant, discover, set_brightness
from tests.integration.conftest import assert_no_foreign_credentials
from tests.integration.test_local_stack import event, name_of, use_stack, valid

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
VENDORS = ("sim-sync", "sim-async", "sim-optimistic", "sim-polling")


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(latency=0.01, transition=0.2) as running:
        running.link_demo_user()
        valid(running.invoke(discover(running.demo_token())))  # the demo user owns its bulbs
        yield use_stack(running)


def new_user(
    stack: LocalStack, vendors: tuple[str, ...] = VENDORS, *, sim_account: str = "demo-user"
) -> tuple[str, str]:
    """A skill user (a user of the local pool) who connected ``vendors`` with credentials of
    their own for the simulator account ``sim_account`` (by default the demo user's: two Alexa
    accounts on one vendor account; another one gets the catalogue's bulbs under ids of its
    own), linked Alexa (AcceptGrant) and discovered the bulbs. Returns (user id, token)."""
    from bulb_workbench.local._sim_model import default_catalogue

    name = f"user-{uuid.uuid4().hex[:8]}"
    user_id = stack.add_user(name, "Second-password-1")
    for vendor in vendors:
        devices = None
        if sim_account != "demo-user":
            devices = [
                d.model_copy(update={"id": f"{d.id}-{name}"}) for d in default_catalogue(vendor)
            ]
        credential = stack.add_vendor_account(
            vendor, sim_account, f"{name}-{vendor}-credential", devices=devices
        )
        stack.accounts.connect(user_id, vendor, credential)
    token = stack.access_token(name, "Second-password-1")
    assert name_of(stack.invoke(accept_grant(token, f"grant-{name}"))) == "AcceptGrant.Response"
    found = valid(stack.invoke(discover(token)))
    assert len(found["event"]["payload"]["endpoints"]) == 3 * len(vendors)
    return user_id, token


def wait_for(condition: Any, timeout: float = 8.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    return condition()


def accepted_since(
    stack: LocalStack, before: int, name: str, endpoint_id: str | None = None
) -> list[dict]:
    return [
        m
        for m in stack.gateway.accepted()[before:]
        if name_of(m) == name
        and (endpoint_id is None or m["event"].get("endpoint", {}).get("endpointId") == endpoint_id)
    ]


def items_of(stack: LocalStack, table: str) -> list[dict[str, Any]]:
    paginator = stack.client("dynamodb").get_paginator("scan")
    return [
        i for page in paginator.paginate(TableName=stack.table_name(table)) for i in page["Items"]
    ]


def skill_users(stack: LocalStack, *args: str) -> subprocess.CompletedProcess[str]:
    """``skill users ...`` in another process, with the running stack's environment."""
    return subprocess.run(
        [sys.executable, "-m", "bulb_workbench.cli", "users", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **stack.env, "PYTHONUNBUFFERED": "1"},
        check=False,
    )


# -- the check every integration test ends with -------------------------------------------------


def test_the_foreign_check_fails_when_a_vendor_is_shown_another_vendors_credential() -> None:
    with VendorSimulator(latency=0) as sim:
        own = requests.get(
            f"{sim.url}/sim-polling/v1/devices",
            headers={"X-Api-Key": "demo-sim-polling-credential"},
            timeout=5,
        )
        assert own.status_code == 200
        assert_no_foreign_credentials(sim.foreign_credentials())  # its own: not foreign

        stranger = requests.get(
            f"{sim.url}/sim-polling/v1/devices",  # sim-sync's access token
            headers={"X-Api-Key": "demo-sim-sync-credential"},
            timeout=5,
        )
        jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl"
        bearer = requests.get(
            f"{sim.url}/sim-sync/v1/devices",  # a skill token, not a vendor's
            headers={"Authorization": f"Bearer {jwt}"},
            timeout=5,
        )
        hook = requests.get(f"{sim.url}/_sim/foreign", timeout=5).json()

        assert stranger.status_code == 401 and bearer.status_code == 401
        assert hook == {"sim-sync": 1, "sim-async": 0, "sim-optimistic": 0, "sim-polling": 1}
        with pytest.raises(AssertionError, match="sim-polling"):
            assert_no_foreign_credentials(sim.foreign_credentials())
        sim.reset()  # counted on purpose: the session's check must not count them again


def test_the_demo_user_is_a_pool_user_with_every_vendor_connected(stack: LocalStack) -> None:
    token = stack.demo_access_token()
    claims = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[1] + "=="))

    assert claims["sub"] == stack.demo_user_id
    assert claims["token_use"] == "access" and claims["client_id"] == stack.env["COGNITO_CLIENT_ID"]
    assert claims["iss"] == stack.env["COGNITO_ISSUER"]
    assert requests.get(stack.env["COGNITO_JWKS_URL"], timeout=5).json()["keys"]
    assert sorted(stack.accounts.credentials.connected(stack.demo_user_id)) == sorted(VENDORS)
    for vendor in VENDORS:
        stored = stack.accounts.credentials.stored(stack.demo_user_id, vendor)
        assert stored.account_id == "demo-user"
        assert stored.credential == stack.simulator.demo_credential(vendor)


def test_a_token_the_pool_did_not_issue_is_refused_and_nothing_is_queued(stack: LocalStack) -> None:
    directive = event("TurnOn.sync.json")
    forged = stack.demo_access_token()
    forged = forged[: forged.rindex(".") + 1] + "AAAA" + forged[forged.rindex(".") + 5 :]
    directive["directive"]["endpoint"]["scope"]["token"] = forged

    with stack.paused():
        answer = valid(stack.invoke(directive))
        queued = stack.messages_on("DIRECTIVES_QUEUE_SYNC_URL")

    assert answer["event"]["payload"]["type"] == "INVALID_AUTHORIZATION_CREDENTIAL"
    assert queued == {"visible": 0, "in_flight": 0, "delayed": 0}


# -- several skill users on one vendor account --------------------------------------------------


def test_two_skill_users_on_one_vendor_account_both_get_a_push_change_report(
    stack: LocalStack,
) -> None:
    second, _ = new_user(stack, ("sim-async",))
    before = len(stack.gateway.accepted())

    stack.simulator.set_state("sim-async", "color-1", brightness=17)  # the vendor's app, say

    reports = wait_for(
        lambda: (
            len(accepted_since(stack, before, "ChangeReport", "sim-async:color-1")) >= 2
            and accepted_since(stack, before, "ChangeReport", "sim-async:color-1")
        )
    )
    assert reports and len(reports) == 2, "each owner of the bulb gets its own ChangeReport"
    tokens = {r["event"]["endpoint"]["scope"]["token"] for r in reports}
    assert len(tokens) == 2 and all(stack.lwa.is_valid(t) for t in tokens)  # each user's LWA token
    for report in reports:
        assert not schema_errors(report)
        change = report["event"]["payload"]["change"]
        assert change["cause"]["type"] == "PHYSICAL_INTERACTION"
        # what changed (everything, to a user whose last known state of the bulb is none yet)
        assert {p["name"]: p["value"] for p in change["properties"]}["brightness"] == 17
    owners = stack.accounts.pending.owners_of("sim-async:color-1")
    assert {o.user_id for o in owners} == {stack.demo_user_id, second}


def test_two_skill_users_on_one_vendor_account_both_get_a_swept_change_report(
    stack: LocalStack,
) -> None:
    second, _ = new_user(stack, ("sim-polling",))
    stack.tick_sweep()  # the sweep learns the bulbs' states
    stack.wait_idle(5)
    before = len(stack.gateway.accepted())

    stack.simulator.set_state("sim-polling", "white-1", on=True, brightness=23)
    stack.tick_sweep()

    reports = wait_for(
        lambda: (
            len(accepted_since(stack, before, "ChangeReport", "sim-polling:white-1")) >= 2
            and accepted_since(stack, before, "ChangeReport", "sim-polling:white-1")
        )
    )
    assert reports and len(reports) == 2
    assert len({r["event"]["endpoint"]["scope"]["token"] for r in reports}) == 2
    assert all(not schema_errors(r) for r in reports)
    assert {o.user_id for o in stack.accounts.pending.owners_of("sim-polling:white-1")} >= {
        stack.demo_user_id,
        second,
    }


# -- disconnect and delete -----------------------------------------------------------------------


def test_disconnect_sends_a_schema_valid_delete_report_and_removes_the_connection(
    stack: LocalStack,
) -> None:
    user, token = new_user(stack, ("sim-sync", "sim-polling"))
    before = len(stack.gateway.accepted())

    result = stack.accounts.disconnect(user, "sim-sync")

    assert result.endpoints == ["sim-sync:color-1", "sim-sync:white-1", "sim-sync:white-tunable-1"]
    [report] = wait_for(lambda: accepted_since(stack, before, "DeleteReport"))
    assert not schema_errors(report), schema_errors(report)[:3]
    assert report["event"]["header"]["namespace"] == "Alexa.Discovery"
    assert (
        sorted(e["endpointId"] for e in report["event"]["payload"]["endpoints"]) == result.endpoints
    )
    assert stack.lwa.is_valid(report["event"]["payload"]["scope"]["token"])
    assert stack.accounts.credentials.connected(user) == ["sim-polling"]
    assert not [
        o for o in stack.accounts.pending.owners() if o.user_id == user and o.vendor == "sim-sync"
    ]
    found = valid(stack.invoke(discover(token)))  # the other vendor is still there
    assert {e["endpointId"].split(":")[0] for e in found["event"]["payload"]["endpoints"]} == {
        "sim-polling"
    }
    command, _ = set_brightness("sim-sync:color-1", 30, token)
    answer = valid(stack.invoke(command))
    assert answer["event"]["payload"]["type"] == "NO_SUCH_ENDPOINT"
    # the demo user, on the same vendor account, keeps everything
    assert "sim-sync" in stack.accounts.credentials.connected(stack.demo_user_id)


def test_disconnect_deregisters_the_webhook_the_skill_registered_at_discover(
    stack: LocalStack,
) -> None:
    """sim-async keeps one webhook URL per account (as SwitchBot): Discover registered the
    skill's; the last skill user of that account to disconnect takes it away."""
    account = f"own-{uuid.uuid4().hex[:6]}"
    user, _ = new_user(stack, ("sim-async",), sim_account=account)
    registered = stack.simulator.account_webhook("sim-async", user=account)
    assert registered, "Discover registered no webhook: the local stack set no WEBHOOK_BASE_URL"
    assert "/webhooks/sim-async/" in registered

    result = stack.accounts.disconnect(user, "sim-async")

    assert result.webhook_deregistered
    assert stack.simulator.account_webhook("sim-async", user=account) is None
    assert stack.simulator.account_webhook("sim-async") is not None  # the demo account's stays


def test_skill_users_list_shows_vendors_and_bulbs_and_no_secret(stack: LocalStack) -> None:
    user, _ = new_user(stack, ("sim-optimistic",))

    run = skill_users(stack, "list")

    assert run.returncode == 0, run.stderr[-2000:]
    rows = {row["user_id"]: row for row in map(json.loads, run.stdout.splitlines())}
    assert [v["vendor"] for v in rows[user]["vendors"]] == ["sim-optimistic"]
    assert rows[user]["vendors"][0]["account_id"] == "demo-user"
    assert rows[user]["bulbs"] == 3 and rows[user]["alexa_linked"] is True
    assert sorted(v["vendor"] for v in rows[stack.demo_user_id]["vendors"]) == sorted(VENDORS)
    assert "credential" not in run.stdout and "secret" not in run.stdout and "eyJ" not in run.stdout


def test_skill_users_disconnect_refuses_a_vendor_the_user_has_not_connected(
    stack: LocalStack,
) -> None:
    user, _ = new_user(stack, ("sim-sync",))

    refused = skill_users(stack, "disconnect", user, "sim-polling")
    done = skill_users(stack, "disconnect", user, "sim-sync")

    assert refused.returncode == 1 and "has not connected sim-polling" in refused.stderr
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == {
        "vendor": "sim-sync",
        "bulbs": 3,
        "pending_deleted": 0,
        "delete_report": True,
        "webhook_deregistered": False,
    }
    assert stack.accounts.credentials.connected(user) == []


def test_skill_users_delete_removes_everything_of_the_user(stack: LocalStack) -> None:
    user, token = new_user(stack, ("sim-sync", "sim-polling"))
    stack.simulator.transition = 30  # a polling command that stays pending
    try:
        command, correlation = set_brightness("sim-polling:color-1", 44, token)
        assert name_of(stack.invoke(command)) == "DeferredResponse"
        pending = wait_for(lambda: stack.accounts.pending.pending_for("sim-polling:color-1"))
        assert pending and pending[0].user_id == user

        run = skill_users(stack, "delete", user)
    finally:
        stack.simulator.transition = 0.2

    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads(run.stdout)
    assert summary["login"] == "deleted" and summary["lwa_tokens"] == "deleted"
    assert sorted(d["vendor"] for d in summary["disconnected"]) == ["sim-polling", "sim-sync"]
    assert sum(d["pending_deleted"] for d in summary["disconnected"]) == 1
    for table in ("CREDENTIALS_TABLE", "STATE_TABLE", "TOKENS_TABLE"):
        left = [i for i in items_of(stack, table) if user in json.dumps(i, default=str)]
        assert not left, (table, left[:2])
    cognito = stack.client("cognito-idp")
    assert not cognito.list_users(UserPoolId=stack.user_pool.pool_id, Filter=f'sub = "{user}"')[
        "Users"
    ]
    # its last access token stays valid until it expires (Cognito's tokens are verified
    # offline), but it now names a user with nothing connected
    found = valid(stack.invoke(discover(token)))
    assert found["event"]["payload"]["endpoints"] == []
    stack.wait_for_answer(correlation, timeout=stack.deadline_seconds + 2)
    stack.wait_idle(5)


# -- what rests on the queues ----------------------------------------------------------------------


def test_directives_held_on_their_queues_carry_the_user_and_no_credential(
    stack: LocalStack, tmp_path: Path
) -> None:
    sent = [event(f"TurnOn.{style}.json") for style in ("sync", "async", "optimistic", "polling")]
    with stack.paused():
        for directive in sent:
            assert name_of(stack.invoke(directive)) == "DeferredResponse"
        index = stack.dump_state(tmp_path, settle=False)

    held = [
        m
        for q in (tmp_path / "queues").glob("*Directives*.json")
        for m in json.loads(q.read_text())
    ]
    assert (
        len(held) == 4 and sum(n for q, n in index["queues"].items() if "DirectivesQueue" in q) == 4
    )
    for message in held:
        assert message["Body"]["user_id"] == stack.demo_user_id
        assert "token" not in message["Body"]["directive"]["endpoint"]["scope"]
    text = "".join(p.read_text() for p in (tmp_path / "queues").glob("*.json"))
    assert "demo-sim-" not in text and "eyJ" not in text
    for directive in sent:  # released again: every one is answered
        events = stack.wait_for_answer(directive["directive"]["header"]["correlationToken"])
        assert events and name_of(events[-1]) == "Response"
