"""The linking pages: a small server-rendered web app where a skill user signs in (the user
pool's managed login) and connects or disconnects their bulb vendors. ``build_app`` makes the
Powertools router; ``skill.handlers.linking_pages`` is its Lambda handler."""

from skill.linking._app import LinkingServices, UserDirectory, build_app
from skill.linking._session import CookieSigner, Session
from skill.linking._signin import CognitoLogin, SignInFailed

__all__ = [
    "CognitoLogin",
    "CookieSigner",
    "LinkingServices",
    "Session",
    "SignInFailed",
    "UserDirectory",
    "build_app",
]
