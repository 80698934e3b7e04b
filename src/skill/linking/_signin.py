"""Sign-in through the user pool's managed login: OAuth 2.0 authorization code with PKCE (S256)
and ``state``; the access token it gives is verified like every other (``CognitoIdentity``).

``CognitoLogin(domain, client_id, client_secret, identity).start(redirect_uri)`` gives the URL
to send the browser to and the PKCE verifier to keep (in the flow cookie); when the browser comes
back with a code, ``finish(code, verifier, redirect_uri)`` redeems it at the pool's token
endpoint and returns ``(user_id, username)``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import requests

from skill.identity import CognitoIdentity
from skill.ports import IdentityError

#: Scopes asked of the user pool: who the user is, nothing more.
SCOPES = "openid email profile"


class SignInFailed(Exception):
    """The sign-in could not be completed (a message fit for the page)."""


@dataclass(frozen=True, slots=True)
class SignInStart:
    url: str
    state: str
    verifier: str = ""


def pkce_pair() -> tuple[str, str]:
    """(code verifier, S256 code challenge), RFC 7636."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class CognitoLogin:
    def __init__(
        self,
        domain: str,
        client_id: str,
        client_secret: str | None,
        identity: CognitoIdentity,
        *,
        session: requests.Session | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.domain = domain.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.identity = identity
        self._http = session or requests.Session()
        self._timeout = timeout

    @property
    def host(self) -> str:
        return self.domain.split("://", 1)[-1].split("/", 1)[0]

    def start(self, redirect_uri: str) -> SignInStart:
        state = secrets.token_urlsafe(24)
        verifier, challenge = pkce_pair()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": SCOPES,
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return SignInStart(
            url=f"{self.domain}/oauth2/authorize?{query}", state=state, verifier=verifier
        )

    def finish(self, code: str, verifier: str, redirect_uri: str) -> tuple[str, str]:
        """Redeem the code at the token endpoint; (user id, user name) of its access token."""
        auth = (self.client_id, self._client_secret) if self._client_secret else None
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "client_id": self.client_id,
        }
        try:
            response = self._http.post(
                f"{self.domain}/oauth2/token", data=form, auth=auth, timeout=self._timeout
            )
        except requests.RequestException:
            raise SignInFailed("The sign-in service did not answer. Please try again.") from None
        if response.status_code != 200:
            raise SignInFailed("The sign-in was not accepted. Please sign in again.")
        try:
            answer = response.json()
            claims = self.identity.claims_of(answer["access_token"])
        except (ValueError, KeyError, TypeError, IdentityError):
            raise SignInFailed("The sign-in service sent an answer that cannot be used.") from None
        # The pool signs in by e-mail, so the access token's ``username`` is an opaque id: show
        # the ID token's e-mail (verified like the access token, for this client and user).
        shown = self.identity.email_of(answer.get("id_token"), self.client_id, claims["sub"])
        return str(claims["sub"]), str(shown or claims.get("username") or "you")

    def logout_url(self, return_to: str) -> str:
        query = urlencode({"client_id": self.client_id, "logout_uri": return_to})
        return f"{self.domain}/logout?{query}"
