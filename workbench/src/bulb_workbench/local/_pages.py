"""The linking pages on loopback, with a local stand-in for the Cognito managed login.

``LocalPages(stack)`` serves

- the linking pages (``skill.linking.build_app``, the app of
  ``skill.handlers.linking_pages.handler``) behind an HTTP API on ``127.0.0.1`` (``HttpApiBridge``:
  ``ANY /`` and ``ANY /{proxy+}``, payload format 2.0, cookies as HTTP API passes them), built for
  the local stack directly: the stack's ``Accounts`` (its vault, stores, adapters and webhook URLs),
  the template's ``LinkingPages/LinkingClient`` app client as moto made it, a random session secret,
  and a banner on every page saying that this is a local stack;
- ``FakeManagedLogin`` (``bulb_workbench.local._fake_login``) on a port of its own: the username and
  password form backed by moto's user pool, which redirects back to ``<pages>/callback``.

In AWS the function reads the same things from its environment and Secrets Manager; here
nothing is read from Secrets Manager. The pages set ``Secure`` cookies: browsers keep those
from ``http://127.0.0.1`` too (a loopback origin counts as potentially trustworthy).
"""

from __future__ import annotations

import secrets
from typing import Any

from bulb_workbench.local._fake_login import FakeManagedLogin, moto_authenticator
from bulb_workbench.local._http import LoopbackServer
from bulb_workbench.local._webhook import HttpApiBridge

PAGES_HANDLER = "skill.handlers.linking_pages.handler"
BANNER = (
    "Local stack: these pages run on your machine, and sign-in is a local stand-in for "
    "the Cognito managed login. Nothing here is deployed."
)


class LocalPages:
    """The pages and their sign-in, for a started ``LocalStack`` in ``cognito`` linking mode."""

    def __init__(self, stack: Any, *, banner: str = BANNER) -> None:
        self._stack = stack
        self.banner = banner
        self.client = linking_client(stack)
        function = stack.model.function_with_handler(PAGES_HANDLER) if stack.model else None
        self._app: Any = None
        self.bridge = HttpApiBridge(
            self._handle,
            function.name if function else "bulb-skill-LinkingFunction",
            timeout=function.timeout if function else 29.0,
            name="linking-pages",
        )
        self.login: FakeManagedLogin | None = None
        self._login_server: LoopbackServer | None = None

    def start(self) -> LocalPages:
        from skill.aws.http import get_json
        from skill.identity import CognitoIdentity
        from skill.linking import CognitoLogin, CookieSigner, LinkingServices, build_app

        stack, client = self._stack, self.client
        pool = stack.user_pool
        self.bridge.start()  # its port makes the URLs the login redirects to
        self.login = FakeManagedLogin(
            {client.client_id: client.client_secret or ""},
            [self.url.rstrip("/") + "/callback"],
            moto_authenticator(stack._cognito, pool.pool_id),
            logout_uris=[self.url],
        )
        self._login_server = LoopbackServer(self.login, name="managed-login-stand-in").start()
        moto = stack.env["AWS_ENDPOINT_URL"]
        identity = CognitoIdentity(
            pool.issuer, client.client_id, jwks_url=pool.jwks_url(moto), fetch=get_json
        )
        services = LinkingServices(
            accounts=stack.accounts,
            login=CognitoLogin(self.login_url, client.client_id, client.client_secret, identity),
            cookies=CookieSigner(secrets.token_urlsafe(32)),
            base_url=self.url,
            users=_PoolUsers(stack),
            banner=self.banner,
        )
        self._app = build_app(lambda: services)
        return self

    def stop(self) -> None:
        server, self._login_server = self._login_server, None
        if server is not None:
            server.stop()
        self.bridge.stop()

    @property
    def url(self) -> str:
        """The pages' base URL, ``http://127.0.0.1:<port>/``."""
        return self.bridge.url + "/"

    @property
    def login_url(self) -> str:
        """The managed login stand-in (``/oauth2/authorize``, ``/oauth2/token``, ``/logout``)."""
        if self._login_server is None:
            raise RuntimeError("the linking pages are not started")
        return self._login_server.url

    def _handle(self, event: dict[str, Any], context: Any) -> Any:
        if self._app is None:
            raise RuntimeError("the linking pages are not started")
        return self._app.resolve(event, context)


def linking_client(stack: Any) -> Any:
    """The pages' app client (``LinkingClient``, in the stack of the function whose handler is
    the pages'), as moto made it."""
    clients = stack.resources.user_pool_clients
    function = stack.model.function_with_handler(PAGES_HANDLER)
    if function is not None:
        mine = [
            c
            for c in clients.values()
            if c.spec.stack == function.stack and c.spec.logical_id == "LinkingClient"
        ]
        if len(mine) == 1:
            return mine[0]
    named = [c for c in clients.values() if c.spec.logical_id == "LinkingClient"]
    if len(named) == 1:
        return named[0]
    from bulb_workbench.local._resources import TemplateError

    raise TemplateError(
        "the linking pages need their app client (AWS::Cognito::UserPoolClient LinkingClient, "
        f"infra/linking.yaml); the template made: {', '.join(clients) or 'none'}"
    )


class _PoolUsers:
    """``UserDirectory`` of the local pool: account deletion deletes the login in moto."""

    def __init__(self, stack: Any) -> None:
        self._stack = stack

    def delete(self, username: str) -> None:
        stack = self._stack
        stack._cognito.admin_delete_user(UserPoolId=stack.user_pool.pool_id, Username=username)
        with stack._users_lock:
            gone = [
                n for n, sub in stack.users.items() if username in (n, sub, stack.sign_in_name(n))
            ]
            for name in gone:
                del stack.users[name]
