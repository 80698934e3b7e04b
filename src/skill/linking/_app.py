"""The linking pages: where a skill user connects and disconnects their bulb vendors.

Routes (Powertools' event handler, API Gateway HTTP API payload 2.0):

- ``GET /`` home: the connected vendors, their bulbs and whether each is reachable
- ``GET /signin`` -> the user pool's managed login (code + PKCE); ``GET /callback`` back
- ``POST /signout``
- ``GET /connect/{vendor}``: a form shaped by the vendor's credential (key, key + secret) or a
  link to the vendor's own sign-in (OAuth: ``/start`` -> vendor -> ``/callback``)
- ``POST /connect/{vendor}``: check the key with one real call, then store it
- ``POST /connect/{vendor}/webhook``: replace the account's other push URL, or read by polling
- ``POST /disconnect/{vendor}``; ``GET``/``POST /account/delete``
- ``GET /static/style.css``

Every form carries the session's CSRF token; every page is sent with a Content-Security-Policy
that allows no script and no framing; a redirect goes only to this site's paths or to a host on
the allow-list (the sign-in domain and the vendors' authorize pages).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.shared.cookies import Cookie

from skill.accounts import Accounts
from skill.errors import InvalidAuthorizationCredential, NoSuchEndpoint, SkillError
from skill.linking import _html as html
from skill.linking._session import (
    FLOW_COOKIE,
    FLOW_SECONDS,
    SESSION_COOKIE,
    SESSION_SECONDS,
    CookieSigner,
    Session,
)
from skill.linking._signin import SignInFailed
from skill.plugins import (
    Adapter,
    AnyCredential,
    ApiKey,
    CredentialKind,
    KeyAndSecret,
    OAuthLinker,
    SingleWebhookVendor,
    WebhookRegistrar,
)

logger = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Strict-Transport-Security": "max-age=31536000",
}
MAX_FORM_BYTES = 8 * 1024


class Login(Protocol):
    """The sign-in service (``CognitoLogin``, or the local stand-in's)."""

    @property
    def host(self) -> str: ...

    def start(self, redirect_uri: str) -> Any: ...

    def finish(self, code: str, verifier: str, redirect_uri: str) -> tuple[str, str]: ...

    def logout_url(self, return_to: str) -> str: ...


class UserDirectory(Protocol):
    def delete(self, user_id: str) -> None:
        """Remove the user from the user pool (its ``sub``: a pool that signs in by e-mail
        keeps it as the user's name)."""
        ...


@dataclass
class LinkingServices:
    accounts: Accounts
    login: Login
    cookies: CookieSigner
    #: The pages' public base URL (``https://<api>/``): redirect URIs are built from it.
    base_url: str
    users: UserDirectory | None = None
    #: Shown on every page (the local stand-in says so).
    banner: str | None = None
    clock: Callable[[], float] = time.time
    titles: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def title(self, vendor: str) -> str:
        return (
            self.titles.get(vendor)
            or getattr(self.accounts.adapters.get(vendor), "display_name", None)
            or vendor
        )


def build_app(services: Callable[[], LinkingServices]) -> APIGatewayHttpResolver:
    """The pages over ``services()`` (built at the first request of a container)."""
    app = APIGatewayHttpResolver()

    # --- plumbing -----------------------------------------------------------------------------

    def cookies_in() -> dict[str, str]:
        found: dict[str, str] = {}
        for raw in app.current_event.cookies or []:
            name, _, value = raw.partition("=")
            found.setdefault(name.strip(), value.strip())
        return found

    def session() -> Session | None:
        return Session.from_claims(
            services().cookies.open("session", cookies_in().get(SESSION_COOKIE))
        )

    def form() -> dict[str, str] | None:
        body = app.current_event.decoded_body or ""
        if len(body) > MAX_FORM_BYTES:
            return None
        return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}

    def cookie(name: str, value: str, max_age: int, path: str = "/") -> Cookie:
        return Cookie(
            name=name,
            value=value,
            path=path,
            secure=True,
            http_only=True,
            max_age=max_age,
            same_site=_lax(),
        )

    def headers() -> dict[str, str]:
        """The security headers; ``form-action`` also allows the sign-in domain, since
        browsers apply it to the redirect after a form (signing out ends at its /logout)."""
        login = services().login
        origin = getattr(login, "domain", None) or f"https://{login.host}"
        return {
            **SECURITY_HEADERS,
            "Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"].replace(
                "form-action 'self'", f"form-action 'self' {origin}"
            ),
        }

    def page(
        status: int,
        title: str,
        body: str,
        *,
        who: Session | None = None,
        set_cookies: list[Cookie] | None = None,
    ) -> Response[str]:
        text = html.page(
            title,
            body,
            signed_in_as=who.username if who else None,
            csrf=who.csrf if who else None,
            banner=services().banner,
        )
        return Response(
            status_code=status,
            content_type="text/html; charset=utf-8",
            body=text,
            headers=headers(),
            cookies=set_cookies or [],
        )

    def redirect(target: str, *, set_cookies: list[Cookie] | None = None) -> Response[str]:
        if not allowed_redirect(target):
            logger.warning("refused a redirect to a target not on the allow-list")
            return page(
                400, "Not allowed", html.message_page("Not allowed", "That address is not allowed.")
            )
        return Response(
            status_code=303, headers={**headers(), "Location": target}, cookies=set_cookies or []
        )

    def allowed_redirect(target: str) -> bool:
        if target.startswith("/") and not target.startswith(("//", "/\\")):
            return True
        parts = urlsplit(target)
        return parts.scheme in ("https", "http") and parts.hostname in allowed_hosts()

    def allowed_hosts() -> set[str]:
        hosts = {services().login.host.split(":")[0]}
        for adapter in services().accounts.adapters.all():
            if isinstance(adapter, OAuthLinker):
                try:
                    hosts.add(urlsplit(adapter.authorization_url("https://x/", "s")).hostname or "")
                except Exception:  # noqa: S112, BLE001 - an adapter without settings links no host
                    continue
        return hosts

    def signed_out() -> Response[str]:
        return page(200, "Sign in", html.welcome())

    def expired() -> Response[str]:
        body = html.message_page(
            "Your session has ended", "Please sign in again.", link="/signin", link_text="Sign in"
        )
        return page(401, "Session ended", body, set_cookies=[cookie(SESSION_COOKIE, "", 0)])

    def checked_form(who: Session) -> dict[str, str] | Response[str]:
        data = form()
        if data is None:
            return page(
                413,
                "Too large",
                html.message_page("Too large", "That form was too large."),
                who=who,
            )
        if not who.accepts(data.get("csrf")):
            logger.warning("a form without this session's CSRF token was refused")
            body = html.message_page(
                "This form has expired", "Nothing was changed. Please try again."
            )
            return page(403, "Form expired", body, who=who)
        return data

    def adapter_of(vendor: str) -> Adapter | None:
        try:
            return services().accounts.adapters.get(vendor)
        except SkillError:
            return None

    def not_found(who: Session | None = None) -> Response[str]:
        return page(
            404, "Not found", html.message_page("Not found", "There is no such page."), who=who
        )

    def signed_in(handler: Callable[..., Response[str]]) -> Callable[..., Response[str]]:
        """The route needs a session: ``handler(who, **path)``, or the session-ended page."""

        def route(**path: str) -> Response[str]:
            who = session()
            return expired() if who is None else handler(who, **path)

        return route

    def form_post(handler: Callable[..., Response[str]]) -> Callable[..., Response[str]]:
        """A form of the session: ``handler(who, data, **path)`` once its CSRF token checks."""

        def route(who: Session, **path: str) -> Response[str]:
            data = checked_form(who)
            return data if isinstance(data, Response) else handler(who, data, **path)

        return signed_in(route)

    # --- sign-in ------------------------------------------------------------------------------

    @app.get("/static/style.css")
    def stylesheet() -> Response[str]:
        return Response(
            status_code=200,
            content_type="text/css; charset=utf-8",
            body=html.STYLESHEET,
            headers={**SECURITY_HEADERS, "Cache-Control": "max-age=3600"},
        )

    @app.get("/")
    def home() -> Response[str]:
        who = session()
        if who is None:
            return signed_out()
        views = _vendor_views(services(), who.user_id)
        message = app.current_event.get_query_string_value("done", None)
        notices = {
            "disconnected": "Disconnected.",
            "connected": "Connected.",
            "polling": "Connected. This skill reads these bulbs every few minutes.",
        }
        return page(
            200, "Your lights", html.home(views, who.csrf, notices.get(message or "")), who=who
        )

    @app.get("/signin")
    def signin() -> Response[str]:
        start = services().login.start(services().url("/callback"))
        flow = services().cookies.seal(
            "signin", {"state": start.state, "verifier": start.verifier}, lifetime=FLOW_SECONDS
        )
        return redirect(start.url, set_cookies=[cookie(FLOW_COOKIE, flow, FLOW_SECONDS)])

    @app.get("/callback")
    def callback() -> Response[str]:
        event = app.current_event
        flow = services().cookies.open("signin", cookies_in().get(FLOW_COOKIE))
        state, code = (
            event.get_query_string_value("state", None),
            event.get_query_string_value("code", None),
        )
        if (
            flow is None
            or not state
            or not secrets.compare_digest(str(flow.get("state")), state)
            or not code
        ):
            body = html.message_page(
                "The sign-in did not complete",
                "Please sign in again.",
                link="/signin",
                link_text="Sign in",
            )
            return page(400, "Sign-in failed", body)
        try:
            user_id, username = services().login.finish(
                code, str(flow["verifier"]), services().url("/callback")
            )
        except SignInFailed as failure:
            body = html.message_page(
                "The sign-in did not complete", str(failure), link="/signin", link_text="Sign in"
            )
            return page(502, "Sign-in failed", body)
        new = Session.new(user_id, username)
        sealed = services().cookies.seal("session", new.claims(), lifetime=SESSION_SECONDS)
        return redirect(
            "/",
            set_cookies=[
                cookie(SESSION_COOKIE, sealed, SESSION_SECONDS),
                cookie(FLOW_COOKIE, "", 0),
            ],
        )

    @app.post("/signout")
    @form_post
    def signout(who: Session, data: dict[str, str]) -> Response[str]:
        return redirect(
            services().login.logout_url(services().url("/")),
            set_cookies=[cookie(SESSION_COOKIE, "", 0)],
        )

    # --- connect ------------------------------------------------------------------------------

    @app.get("/connect/<vendor>")
    @signed_in
    def connect_page(who: Session, vendor: str) -> Response[str]:
        adapter = adapter_of(vendor)
        if adapter is None:
            return not_found(who)
        body = html.connect_form(
            vendor,
            services().title(vendor),
            adapter.credential_kind,
            who.csrf,
            help_text=getattr(adapter, "credential_help", None),
        )
        return page(200, f"Connect {services().title(vendor)}", body, who=who)

    @app.post("/connect/<vendor>")
    @form_post
    def connect_with_key(who: Session, data: dict[str, str], vendor: str) -> Response[str]:
        adapter = adapter_of(vendor)
        if adapter is None:
            return not_found(who)
        title = services().title(vendor)
        credential = _credential_from_form(adapter.credential_kind, data)
        if credential is None:
            return connect_error(vendor, adapter, who, "Please fill in every field.", 400)
        typed = [v for k, v in data.items() if k != "csrf" and v]
        return finish_connect(vendor, adapter, who, credential, title, typed)

    def connect_error(
        vendor: str, adapter: Adapter, who: Session, message: str, status: int
    ) -> Response[str]:
        body = html.connect_form(
            vendor,
            services().title(vendor),
            adapter.credential_kind,
            who.csrf,
            error=message,
            help_text=getattr(adapter, "credential_help", None),
        )
        return page(status, f"Connect {services().title(vendor)}", body, who=who)

    def finish_connect(
        vendor: str,
        adapter: Adapter,
        who: Session,
        credential: AnyCredential,
        title: str,
        typed: list[str],
    ) -> Response[str]:
        try:
            services().accounts.connect(who.user_id, vendor, credential)
        except InvalidAuthorizationCredential as refusal:
            reason = _scrub(refusal.message, typed)
            return connect_error(
                vendor,
                adapter,
                who,
                f"{title} did not accept this: {reason}. Nothing was saved.",
                400,
            )
        except SkillError as failure:
            logger.info("connect %s: %s", vendor, failure.alexa_type)
            return connect_error(
                vendor,
                adapter,
                who,
                f"{title} could not be reached just now, so nothing "
                "was saved. Please try again in a minute.",
                503,
            )
        return after_connect(vendor, adapter, who)

    def after_connect(vendor: str, adapter: Adapter, who: Session) -> Response[str]:
        """Webhooks: register ours, or ask first when the vendor keeps one URL per account and
        the account already has another."""
        base = services().accounts.webhook_url_for
        hook = base(vendor) if base else None
        if hook and isinstance(adapter, WebhookRegistrar):
            credential = services().accounts.credentials.for_adapter(who.user_id, adapter)
            try:
                if isinstance(adapter, SingleWebhookVendor):
                    others = adapter.other_webhooks(credential, hook)
                    if others:
                        body = html.webhook_question(
                            vendor, services().title(vendor), others, who.csrf
                        )
                        return page(200, "Replace the webhook?", body, who=who)
                adapter.register_webhook(credential, hook)
            except SkillError as failure:
                logger.warning(
                    "connect %s: webhook not registered (%s)", vendor, failure.alexa_type
                )
        return redirect("/?done=connected")

    @app.post("/connect/<vendor>/webhook")
    @form_post
    def webhook_choice(who: Session, data: dict[str, str], vendor: str) -> Response[str]:
        adapter = adapter_of(vendor)
        if adapter is None or not isinstance(adapter, SingleWebhookVendor):
            return not_found(who)
        accounts = services().accounts
        try:
            stored = accounts.credentials.stored(who.user_id, vendor)
        except NoSuchEndpoint:
            return not_found(who)
        if data.get("replace") == "yes":
            hook = accounts.webhook_url_for(vendor) if accounts.webhook_url_for else None
            if hook:
                adapter.replace_webhooks(
                    accounts.credentials.for_adapter(who.user_id, adapter), hook
                )
            accounts.credentials.vault.put(stored.model_copy(update={"push": True}))
            accounts.credentials.forget(who.user_id, vendor)
            return redirect("/?done=connected")
        accounts.read_by_sweep(who.user_id, vendor, time.time())
        return redirect("/?done=polling")

    @app.get("/connect/<vendor>/start")
    @signed_in
    def oauth_start(who: Session, vendor: str) -> Response[str]:
        adapter = adapter_of(vendor)
        if adapter is None or not isinstance(adapter, OAuthLinker):
            return not_found(who)
        state = secrets.token_urlsafe(24)
        flow = services().cookies.seal(
            f"oauth:{vendor}", {"state": state, "sub": who.user_id}, lifetime=FLOW_SECONDS
        )
        try:
            target = adapter.authorization_url(services().url(f"/connect/{vendor}/callback"), state)
        except SkillError:
            logger.exception("connect %s: the vendor's OAuth client is not configured", vendor)
            return connect_error(
                vendor,
                adapter,
                who,
                f"Connecting {services().title(vendor)} is not set up "
                "in this skill yet. Please tell its operator.",
                503,
            )
        return redirect(target, set_cookies=[cookie(FLOW_COOKIE, flow, FLOW_SECONDS)])

    @app.get("/connect/<vendor>/callback")
    @signed_in
    def oauth_callback(who: Session, vendor: str) -> Response[str]:
        adapter = adapter_of(vendor)
        if adapter is None or not isinstance(adapter, OAuthLinker):
            return not_found(who)
        event = app.current_event
        flow = services().cookies.open(f"oauth:{vendor}", cookies_in().get(FLOW_COOKIE))
        state, code = (
            event.get_query_string_value("state", None),
            event.get_query_string_value("code", None),
        )
        if (
            flow is None
            or flow.get("sub") != who.user_id
            or not state
            or not secrets.compare_digest(str(flow.get("state")), state)
        ):
            return connect_error(
                vendor,
                adapter,
                who,
                "That sign-in did not come from this page. Please start again.",
                400,
            )
        if not code:
            denied = event.get_query_string_value("error", None) or "no code"
            return connect_error(
                vendor,
                adapter,
                who,
                f"{services().title(vendor)} did not allow access ({_scrub(denied, [])}).",
                400,
            )
        title = services().title(vendor)
        try:
            credential = adapter.exchange_code(code, services().url(f"/connect/{vendor}/callback"))
        except InvalidAuthorizationCredential as refusal:
            return connect_error(
                vendor, adapter, who, f"{title} did not accept the sign-in: {refusal.message}.", 400
            )
        except SkillError:
            return connect_error(
                vendor,
                adapter,
                who,
                f"{title} could not be reached just now, so nothing "
                "was saved. Please try again in a minute.",
                503,
            )
        response = finish_connect(vendor, adapter, who, credential, title, [])
        response.cookies.append(cookie(FLOW_COOKIE, "", 0))
        return response

    # --- disconnect, delete -------------------------------------------------------------------

    @app.post("/disconnect/<vendor>")
    @form_post
    def disconnect(who: Session, data: dict[str, str], vendor: str) -> Response[str]:
        if adapter_of(vendor) is None:
            return not_found(who)
        services().accounts.disconnect(who.user_id, vendor)
        return redirect("/?done=disconnected")

    @app.get("/account/delete")
    @signed_in
    def delete_page(who: Session) -> Response[str]:
        return page(200, "Delete your account", html.delete_account(who.csrf), who=who)

    @app.post("/account/delete")
    @form_post
    def delete_account(who: Session, data: dict[str, str]) -> Response[str]:
        services().accounts.delete_user(who.user_id)
        if services().users is not None:
            services().users.delete(who.user_id)  # type: ignore[union-attr]
        body = html.message_page(
            "Your account is deleted", "Everything this skill kept about you is gone."
        )
        return page(200, "Account deleted", body, set_cookies=[cookie(SESSION_COOKIE, "", 0)])

    @app.not_found
    def missing(_: Exception) -> Response[str]:
        return not_found(session())

    return app


def _lax() -> Any:
    from aws_lambda_powertools.shared.cookies import SameSite

    return SameSite.LAX_MODE


def _credential_from_form(kind: CredentialKind, data: dict[str, str]) -> AnyCredential | None:
    values = {name: (data.get(name) or "").strip() for name, _ in html.FIELDS[kind]}
    if not values or not all(values.values()):
        return None
    if kind is CredentialKind.API_KEY:
        return ApiKey.of(values["api_key"])
    return KeyAndSecret.of(values["key"], values["secret"])


def _scrub(message: str, typed: list[str]) -> str:
    """A vendor's reason, with anything the user typed taken out (it is never shown back)."""
    for value in typed:
        if len(value) >= 4:
            message = message.replace(value, "[hidden]")
    return message[:200]


def _vendor_views(services: LinkingServices, user_id: str) -> list[html.VendorView]:
    accounts = services.accounts
    try:
        connected = set(accounts.credentials.connected(user_id))
    except Exception:  # noqa: BLE001 - the vault down: the page shows nothing connected
        connected = set()
    adapters = accounts.adapters.all()
    with ThreadPoolExecutor(max_workers=max(1, min(4, len(adapters)))) as pool:
        return list(
            pool.map(lambda a: _view_of(services, user_id, a, a.name in connected), adapters)
        )


def _view_of(
    services: LinkingServices, user_id: str, adapter: Adapter, connected: bool
) -> html.VendorView:
    title = services.title(adapter.name)
    if not connected:
        return html.VendorView(adapter.name, title, False, [])
    credentials = services.accounts.credentials
    note = None
    try:
        stored = credentials.stored(user_id, adapter.name)
        if not stored.push:
            note = "These bulbs are read every few minutes (you kept your other webhook)."
        credential = credentials.for_adapter(user_id, adapter)
        devices = adapter.list_devices(credential)
    except InvalidAuthorizationCredential:
        return html.VendorView(
            adapter.name,
            title,
            True,
            [],
            f"{title} no longer accepts this connection. Disconnect it and connect it again.",
            note,
        )
    except SkillError:
        return html.VendorView(
            adapter.name, title, True, [], f"{title} could not be reached just now.", note
        )
    bulbs = []
    for device in devices[:50]:
        try:
            reachable: bool | None = adapter.read_state(credential, device.id).reachable
        except SkillError:
            reachable = None
        bulbs.append(html.Bulb(device.name, reachable))
    return html.VendorView(adapter.name, title, True, bulbs, None, note)
