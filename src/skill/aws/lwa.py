"""Login with Amazon: redeem a grant code, refresh an access token (OAuth 2.0 token endpoint).

The skill's LWA client id and secret (from the Alexa developer console's "Permissions" page)
are read from Secrets Manager through Powertools parameters, cached for five minutes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from skill.ports import LwaError
from skill.records import LwaTokens

Credentials = Callable[[], tuple[str, str]]


def secret_credentials(secret_name: str) -> Credentials:
    """Client id and secret from a Secrets Manager secret ``{"client_id", "client_secret"}``."""

    def read() -> tuple[str, str]:
        from skill.aws import get_json_secret

        value: Any = get_json_secret(secret_name)
        return str(value["client_id"]), str(value["client_secret"])

    return read


class LwaClient:
    """Talks to the LWA token endpoint; one HTTP session per container."""

    def __init__(
        self,
        token_url: str,
        credentials: Credentials,
        *,
        timeout: float = 3.0,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = token_url
        self._credentials = credentials
        self._timeout = timeout
        self._session = session or requests.Session()
        self._clock = clock
        self.calls = 0  # LWA calls made by this container (a metric, and tests count it)

    def exchange(self, code: str) -> LwaTokens:
        return self._token({"grant_type": "authorization_code", "code": code})

    def refresh(self, refresh_token: str) -> LwaTokens:
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _token(self, form: dict[str, str]) -> LwaTokens:
        client_id, client_secret = self._credentials()
        self.calls += 1
        try:
            answer = self._session.post(
                self._url,
                data={**form, "client_id": client_id, "client_secret": client_secret},
                headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise LwaError(f"LWA unreachable: {type(exc).__name__}", transient=True) from None
        body = _json(answer)
        if 200 <= answer.status_code < 300:
            tokens = self._tokens_of(body, form)
            if tokens is not None:
                return tokens
            # A success whose body was cut off or holds no token: a passing fault, not a
            # refusal (nor a configuration fault). A refresh can simply be tried again; a grant
            # code may be spent (LWA issued tokens nobody could read), so redeeming it again
            # gets invalid_grant, and AcceptGrant fails whichever LwaError it gets.
            raise LwaError(
                f"LWA answered {answer.status_code} without a readable token", transient=True
            )
        error = str(body.get("error", f"http {answer.status_code}"))
        transient = answer.status_code >= 500 or answer.status_code == 429
        raise LwaError(
            f"LWA refused: {error}", invalid_grant=error == "invalid_grant", transient=transient
        )

    def _tokens_of(self, body: dict[str, Any], form: dict[str, str]) -> LwaTokens | None:
        access_token = body.get("access_token")
        try:
            lifetime = float(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            return None
        if not isinstance(access_token, str) or not access_token:
            return None
        return LwaTokens(
            access_token=access_token,
            refresh_token=str(body.get("refresh_token") or form.get("refresh_token", "")),
            expires_at=self._clock() + lifetime,
        )


def _json(answer: requests.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
