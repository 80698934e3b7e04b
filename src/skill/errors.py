"""Typed errors that carry their Alexa error type and payload.

Adapters and the core raise these; exactly one place (`skill.alexa.events.error_response`)
turns them into an Alexa ``ErrorResponse``, keeping the namespace and any extra payload
(``validRange``...) intact.

Example::

    >>> error = ValueOutOfRange("brightness must be 0-100", minimum=0, maximum=100)
    >>> error.payload()["validRange"]
    {'minimumValue': 0, 'maximumValue': 100}
    >>> EndpointUnreachable().retryable, error.retryable
    (True, False)
"""

from __future__ import annotations

from typing import Any, ClassVar


class SkillError(Exception):
    """Base of every error that becomes an Alexa ``ErrorResponse``."""

    alexa_type: ClassVar[str] = "INTERNAL_ERROR"
    namespace: ClassVar[str] = "Alexa"
    #: True when retrying later may succeed (vendor down, rate limited): processors retry these
    #: while the directive's deadline allows, and answer with the error only after that.
    retryable: ClassVar[bool] = False

    def __init__(self, message: str = "", **_: Any) -> None:
        super().__init__(message or self.alexa_type)
        self.message = message or self.alexa_type.replace("_", " ").lower()

    def payload(self) -> dict[str, Any]:
        """The ErrorResponse payload: ``type``, ``message`` and the type's extra fields."""
        return {"type": self.alexa_type, "message": self.message}


class InvalidDirective(SkillError):
    alexa_type = "INVALID_DIRECTIVE"


class InvalidValue(SkillError):
    alexa_type = "INVALID_VALUE"


class ValueOutOfRange(SkillError):
    alexa_type = "VALUE_OUT_OF_RANGE"

    def __init__(self, message: str, *, minimum: float, maximum: float) -> None:
        super().__init__(message)
        self.minimum = minimum
        self.maximum = maximum

    def payload(self) -> dict[str, Any]:
        return {
            **super().payload(),
            "validRange": {"minimumValue": self.minimum, "maximumValue": self.maximum},
        }


class NoSuchEndpoint(SkillError):
    alexa_type = "NO_SUCH_ENDPOINT"


class InvalidAuthorizationCredential(SkillError):
    alexa_type = "INVALID_AUTHORIZATION_CREDENTIAL"


class ExpiredAuthorizationCredential(SkillError):
    alexa_type = "EXPIRED_AUTHORIZATION_CREDENTIAL"


class EndpointUnreachable(SkillError):
    alexa_type = "ENDPOINT_UNREACHABLE"
    retryable = True


class BridgeUnreachable(SkillError):
    alexa_type = "BRIDGE_UNREACHABLE"
    retryable = True


class EndpointBusy(SkillError):
    alexa_type = "ENDPOINT_BUSY"
    retryable = True


class RateLimited(SkillError):
    """The vendor throttled us; ``retry_after`` seconds is its hint when it gave one."""

    alexa_type = "RATE_LIMIT_EXCEEDED"
    retryable = True

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotSupportedInCurrentMode(SkillError):
    alexa_type = "NOT_SUPPORTED_IN_CURRENT_MODE"

    def __init__(self, message: str, *, current_device_mode: str = "OTHER") -> None:
        super().__init__(message)
        self.current_device_mode = current_device_mode

    def payload(self) -> dict[str, Any]:
        return {**super().payload(), "currentDeviceMode": self.current_device_mode}


class InternalError(SkillError):
    alexa_type = "INTERNAL_ERROR"


class AcceptGrantFailed(SkillError):
    alexa_type = "ACCEPT_GRANT_FAILED"
    namespace = "Alexa.Authorization"


class InvalidNotification(Exception):
    """A vendor webhook request that fails verification (signature, secret, shape, age).

    Not an Alexa error: the notifications function answers it with a 4xx and processes nothing.
    """

    def __init__(self, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.status = status
