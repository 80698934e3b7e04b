"""The sweep: each minute, read the bulbs of vendors that do not push, report what changed
outside Alexa (ChangeReport), and what was added or removed (AddOrUpdateReport/DeleteReport)."""

from __future__ import annotations

import logging
from collections import defaultdict

from skill import bulbs, discovery
from skill.alexa import events
from skill.bulbs import BulbState, Features
from skill.errors import EndpointUnreachable, SkillError
from skill.pipeline._answers import Answers
from skill.pipeline._pipeline import PipelineServices
from skill.plugins import Adapter, AnyCredential, PushAdapter, decode_endpoint_id, encode_endpoint_id
from skill.records import DeviceOwner, OutboxMessage

logger = logging.getLogger(__name__)


class Sweep:
    def __init__(self, services: PipelineServices) -> None:
        self.services = services
        self.answers = Answers(services.clock)

    def run(self) -> int:
        """One sweep over every known user of every non-push vendor; returns events sent."""
        groups: dict[tuple[str, str], list[DeviceOwner]] = defaultdict(list)
        for owner in self.services.pending.owners():
            groups[(owner.vendor, owner.user_id)].append(owner)
        messages: list[OutboxMessage] = []
        for (vendor, user_id), owners in groups.items():
            try:
                adapter = self.services.adapters.get(vendor)
            except SkillError:
                continue
            try:
                stored = self.services.credentials.stored(user_id, vendor)
                if isinstance(adapter, PushAdapter) and stored.push:
                    continue  # the vendor tells us itself
                if stored.grace_until is not None:
                    continue  # the user unlinked the skill: nobody to report to
                credential = self.services.credentials.for_adapter(user_id, adapter)
                messages += self._sweep_user(adapter, user_id, credential, owners, stored.account_id)
            except SkillError as error:
                logger.info("sweep of %s skipped: %s", vendor, error.alexa_type)
        if messages:
            self.services.outbox.put(messages)
        return len(messages)

    def _sweep_user(
        self,
        adapter: Adapter,
        user_id: str,
        credential: AnyCredential,
        owners: list[DeviceOwner],
        account_id: str | None,
    ) -> list[OutboxMessage]:
        devices = {d.id: d for d in adapter.list_devices(credential)}
        known = {decode_endpoint_id(o.endpoint_id)[1]: o for o in owners}
        messages: list[OutboxMessage] = []
        added = [d for i, d in devices.items() if i not in known]
        removed = [o for i, o in known.items() if i not in devices]
        if added:
            endpoints = [discovery.discovery_endpoint(adapter, d) for d in added]
            messages.append(OutboxMessage(user_id=user_id, message=events.add_or_update_report(endpoints), kind="AddOrUpdateReport"))
        if removed:
            messages.append(OutboxMessage(user_id=user_id, message=events.delete_report([o.endpoint_id for o in removed]), kind="DeleteReport"))
            for owner in removed:
                self.services.pending.delete_owner(owner.endpoint_id, user_id)
        for device in devices.values():
            endpoint_id = encode_endpoint_id(adapter.name, device.id)
            owner = known.get(device.id)
            cached = False
            try:
                actual = adapter.read_state(credential, device.id)
            except EndpointUnreachable:
                # The vendor answers but cannot reach this light: its last known values, with
                # connectivity UNREACHABLE (EndpointHealth is proactively reported).
                if owner is None or owner.state is None:
                    continue
                actual, cached = owner.state.model_copy(update={"reachable": False}), True
            message = self._observe(adapter.name, user_id, endpoint_id, device.features, owner,
                                    actual, account_id, cached=cached)
            if message is not None:
                messages.append(message)
        return messages

    def _observe(
        self,
        vendor: str,
        user_id: str,
        endpoint_id: str,
        features: Features,
        owner: DeviceOwner | None,
        actual: BulbState,
        account_id: str | None,
        *,
        cached: bool = False,
    ) -> OutboxMessage | None:
        """Compare what the vendor shows with what the user was told; a ChangeReport when they
        differ. Within the window after a command's answer, the answered state stands while
        the vendor does not show it yet: no ChangeReport in the other direction. ``cached``:
        the values are the owner record's (the light could not be read), so they keep the time
        they were recorded."""
        now = self.services.clock()
        state, standing = actual, False
        if owner is not None:
            state, standing = bulbs.standing(
                actual, last=owner.state, expected=owner.expected,
                expected_until=owner.expected_until, now=now,
            )
            window_unchanged = owner.expected is None or standing
            if owner.state == state and owner.features == features and window_unchanged:
                return None  # nothing changed: no write, no event (the common case, each minute)
            if self.services.pending.pending_for(endpoint_id):
                return None  # a command is in flight: its answer will say the state
        report = None
        if owner is not None and owner.state is not None:
            report = self.answers.change_report(
                user_id=user_id,
                endpoint_id=endpoint_id,
                features=features,
                before=owner.state,
                after=state,
                cause="PERIODIC_POLL",
            )
        self.services.pending.put_owner(
            DeviceOwner(
                endpoint_id=endpoint_id,
                user_id=user_id,
                vendor=vendor,
                features=features,
                state=state,
                updated_at=owner.updated_at if cached and owner is not None else now,
                account_id=account_id,
                expected=owner.expected if owner is not None and standing else None,
                expected_until=owner.expected_until if owner is not None and standing else 0.0,
            )
        )
        return report
