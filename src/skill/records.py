"""Records that cross a boundary: a stored directive, LWA tokens, a pending command.

They are what the queues and tables hold, as JSON, so every function reads them the same way.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticSerializationError

from skill.bulbs import BulbState, Change, Features
from skill.plugins._credentials import ApiKey, KeyAndSecret, OAuthToken


class _Record(BaseModel):
    # defer_build: a model's validator is built when it is first used, so a cold start pays only
    # for the records its path reads or writes (no behaviour change)
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)


#: SQS takes 256 KiB per message; keep a margin for attributes.
MAX_MESSAGE_CHARS = 250_000


class QueuedDirective(_Record):
    """A control directive as the entrypoint stored it: the directive, when it arrived, and the
    moment after which Alexa no longer waits for the answer."""

    directive: dict[str, Any]  # as Alexa sent it, less ``endpoint.scope.token``
    user_id: str  # the skill user it is for (whose vault credentials and LWA tokens)
    received_at: float
    deadline: float
    features: Features | None = None  # from the cookie, when it had them

    @property
    def header(self) -> dict[str, Any]:
        header: dict[str, Any] = self.directive["header"]
        return header

    @property
    def message_id(self) -> str:
        return str(self.header["messageId"])

    @property
    def endpoint_id(self) -> str:
        return str(self.directive["endpoint"]["endpointId"])

    @classmethod
    def without_token(cls, directive: dict[str, Any], **fields: Any) -> QueuedDirective:
        """Store ``directive`` with its bearer token removed: queues carry no credential."""
        stored = dict(directive)  # copies along the token's path only: the rest may be huge
        endpoint = stored.get("endpoint")
        if isinstance(endpoint, dict) and isinstance(endpoint.get("scope"), dict):
            scope = {k: v for k, v in endpoint["scope"].items() if k != "token"}
            stored["endpoint"] = {**endpoint, "scope": scope}
        return cls(directive=stored, **fields)

    def __repr__(self) -> str:
        return f"QueuedDirective(message_id={self.message_id!r}, endpoint={self.endpoint_id!r})"

    def to_message(self) -> str:
        """The queue message body: ASCII JSON (SQS refuses some unicode), at most
        ``MAX_MESSAGE_CHARS``. A directive that cannot be stored is ``INVALID_DIRECTIVE``: asking
        Alexa to try again would fail again."""
        from skill.errors import InvalidDirective

        try:
            body = json.dumps(
                self.model_dump(mode="json"), ensure_ascii=True, separators=(",", ":")
            )
        except (PydanticSerializationError, ValueError, RecursionError):
            raise InvalidDirective("the directive cannot be stored (nested too deeply)") from None
        if len(body) > MAX_MESSAGE_CHARS:
            raise InvalidDirective("the directive is too large to be stored")
        return body


class LwaTokens(_Record):
    access_token: str = Field(repr=False)
    refresh_token: str = Field(repr=False)
    expires_at: float  # epoch seconds


class TokenRecord(_Record):
    """A user's Alexa event-gateway credentials, keyed by the vendor's user id."""

    user_id: str
    region: str = "NA"
    access_token: str | None = Field(default=None, repr=False)
    refresh_token: str | None = Field(default=None, repr=False)
    expires_at: float = 0
    #: A grant code that still has to be exchanged (AcceptGrant stores it when LWA is down).
    grant_code: str | None = Field(default=None, repr=False)


class OutboxMessage(_Record):
    """An event waiting for the dispatcher: the Alexa message (without token), whose it is, and
    until when it is worth sending."""

    user_id: str
    message: dict[str, Any]
    deadline: float | None = None  # None: proactive (ChangeReport...), no directive waits
    received_at: float | None = None  # when the directive it answers arrived
    correlation_id: str | None = None
    kind: str = "Response"
    #: Delete the user's LWA tokens once this is sent (the user asked to be deleted: Alexa is
    #: told their bulbs are gone first, with the tokens that are then deleted).
    forget_user_after: bool = False


class PendingCommand(_Record):
    """A command the vendor accepted but has not confirmed (async and polling styles)."""

    endpoint_id: str
    message_id: str
    correlation_token: str | None = None
    user_id: str
    reference: str | None = None
    change: Change
    expected: BulbState
    features: Features
    received_at: float
    deadline: float


class PollTicket(_Record):
    """A reminder on the poll queue to read a pending command's bulb again."""

    endpoint_id: str
    message_id: str
    attempt: int = 0


class DeviceOwner(_Record):
    """A skill user who owns a bulb, and what it looked like last: lets a vendor push or the
    sweep become a ChangeReport for each right user, and the sweep notice added or removed
    devices. Several users may own one bulb (two Alexa accounts linked to one Hue bridge)."""

    endpoint_id: str
    user_id: str
    vendor: str
    features: Features
    state: BulbState | None = None
    updated_at: float = 0
    account_id: str | None = None  # the vendor's id of the account the user connected
    #: What the skill answered for its last command before the vendor showed it: the bulb's
    #: expected state until the vendor shows it or ``expected_until`` passes (read-your-writes,
    #: ``skill.bulbs.standing``).
    expected: BulbState | None = None
    expected_until: float = 0


class StoredCredential(_Record):
    """One vendor credential of one skill user, as the vault holds it (decrypted)."""

    user_id: str
    vendor: str
    credential: OAuthToken | ApiKey | KeyAndSecret = Field(discriminator="kind")
    account_id: str | None = None  # the vendor's id of the account (not a secret)
    version: int = 0  # bumped by each write; a refresh writes only over the version it read
    grace_until: float | None = None  # set once the user unlinked the skill
    #: False: the user kept another push URL at a one-webhook vendor, so the sweep reads it.
    push: bool = True


class SweepAccount(_Record):
    """One vendor account of one skill user as the sweep schedules it (``skill.cadence``): how
    often it is read, when it was last active, how many lights it has. Also the sweep queue's
    message: one per account due."""

    vendor: str
    user_id: str
    cadence: int = 1  # minutes between reads
    last_activity: float = 0  # epoch seconds of the last command or outside change
    devices: int = 0
    #: The shortest cadence the vendor's quotas allow for this account (``cadence.quota_floor``).
    floor: int = 1
