"""Server-rendered HTML of the linking pages: no script, one stylesheet, every value escaped.

Pages read well on a phone (one column, large targets), have one ``h1`` each, label every
field, and put errors in a ``role="alert"`` region at the top of the form they concern.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from skill.plugins import CredentialKind

STYLESHEET = """
:root { color-scheme: light dark; --accent: #0b63ce; --error: #b3261e; --ok: #1e7b34; }
* { box-sizing: border-box; }
body { font: 1.05rem/1.5 system-ui, sans-serif; margin: 0; padding: 0 1rem 2rem; }
header, main, footer { max-width: 40rem; margin: 0 auto; }
header { display: flex; justify-content: space-between; align-items: center; gap: 1rem;
         padding: .75rem 0; border-bottom: 1px solid #8884; flex-wrap: wrap; }
header a.home { font-weight: 600; text-decoration: none; color: inherit; }
header nav { display: flex; align-items: center; gap: .5rem 1rem; flex-wrap: wrap; min-width: 0; }
header nav span { overflow-wrap: anywhere; }
header nav button { margin-top: 0; }
h1 { font-size: 1.5rem; margin: 1.25rem 0 .75rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
a { color: var(--accent); }
a:focus, button:focus, input:focus { outline: 3px solid var(--accent); outline-offset: 2px; }
label { display: block; font-weight: 600; margin-top: 1rem; }
input[type=text], input[type=password] { width: 100%; padding: .6rem; font-size: 1rem;
  border: 1px solid #888; border-radius: .3rem; }
button, input { font-family: inherit; }
button, a.button { display: inline-block; margin-top: 1rem; padding: .6rem 1.1rem; font-size: 1rem;
  border-radius: .3rem; border: 1px solid var(--accent); background: var(--accent); color: #fff;
  cursor: pointer; text-decoration: none; }
button.secondary { background: transparent; color: var(--accent); }
button.danger { background: var(--error); border-color: var(--error); }
form.inline { display: inline; }
.alert { border-left: 4px solid var(--error); padding: .5rem .75rem; margin: 1rem 0;
         background: #b3261e14; }
.notice { border-left: 4px solid var(--ok); padding: .5rem .75rem; margin: 1rem 0;
          background: #1e7b3414; }
ul.bulbs { padding-left: 1.25rem; }
.hint { color: #666; font-size: .95rem; }
section.vendor { border: 1px solid #8884; border-radius: .4rem; padding: .25rem 1rem 1rem;
                 margin: 1rem 0; }
.local-banner { background: #fff3cd; color: #5c4400; padding: .5rem; text-align: center;
                font-weight: 600; }
""".strip()

#: How each kind of credential is asked for.
FIELDS: dict[CredentialKind, list[tuple[str, str]]] = {
    CredentialKind.API_KEY: [("api_key", "API key")],
    CredentialKind.KEY_AND_SECRET: [("key", "Token"), ("secret", "Secret key")],
    CredentialKind.OAUTH: [],
}

#: A bulb's ``reachable`` as the home page words it (None: not known).
_REACHABLE = {True: "reachable", False: "not reachable", None: "unknown"}


@dataclass(frozen=True, slots=True)
class Bulb:
    name: str
    reachable: bool | None  # None: could not be asked


@dataclass(frozen=True, slots=True)
class VendorView:
    name: str
    title: str
    connected: bool
    bulbs: list[Bulb]
    problem: str | None = None
    note: str | None = None


def e(value: object) -> str:
    return escape(str(value), quote=True)


def page(
    title: str,
    body: str,
    *,
    signed_in_as: str | None = None,
    csrf: str | None = None,
    banner: str | None = None,
) -> str:
    account = ""
    if signed_in_as is not None and csrf is not None:
        account = (
            f'<nav aria-label="Account"><span>Signed in as {e(signed_in_as)}</span> '
            f'<form class="inline" method="post" action="/signout">{csrf_field(csrf)}'
            '<button class="secondary" type="submit">Sign out</button></form></nav>'
        )
    top = f'<div class="local-banner" role="note">{e(banner)}</div>' if banner else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)} · Bulb skill</title>"
        '<link rel="stylesheet" href="/static/style.css"></head><body>'
        f'{top}<header><a class="home" href="/">Bulb skill</a>{account}</header>'
        f"<main>{body}</main>"
        '<footer><p class="hint">Your vendor keys are stored encrypted and only ever sent to '
        "the vendor they belong to.</p></footer></body></html>"
    )


def csrf_field(token: str) -> str:
    return f'<input type="hidden" name="csrf" value="{e(token)}">'


def alert(message: str | None) -> str:
    return f'<div class="alert" role="alert">{e(message)}</div>' if message else ""


def notice(message: str | None) -> str:
    return f'<div class="notice" role="status">{e(message)}</div>' if message else ""


def welcome() -> str:
    return (
        "<h1>Connect your lights to Alexa</h1>"
        "<p>Sign in with the account you linked in the Alexa app, then connect the makers of your "
        "bulbs.</p>"
        '<p><a class="button" href="/signin">Sign in</a></p>'
    )


def home(vendors: Iterable[VendorView], csrf: str, message: str | None = None) -> str:
    connected = [v for v in vendors if v.connected]
    available = [v for v in vendors if not v.connected]
    parts = ["<h1>Your lights</h1>", notice(message)]
    if not connected:
        parts.append("<p>You have not connected any bulb maker yet.</p>")
    for vendor in connected:
        parts.append(
            f'<section class="vendor" aria-labelledby="v-{e(vendor.name)}">'
            f'<h2 id="v-{e(vendor.name)}">{e(vendor.title)}</h2>'
        )
        if vendor.problem:
            parts.append(alert(vendor.problem))
        if vendor.note:
            parts.append(f'<p class="hint">{e(vendor.note)}</p>')
        if vendor.bulbs:
            items = "".join(
                f"<li>{e(b.name)}: {_REACHABLE[b.reachable]}</li>" for b in vendor.bulbs
            )
            parts.append(f'<ul class="bulbs">{items}</ul>')
        elif not vendor.problem:
            parts.append("<p>No bulbs in this account.</p>")
        parts.append(
            f'<form method="post" action="/disconnect/{e(vendor.name)}">{csrf_field(csrf)}'
            f'<button class="secondary" type="submit">Disconnect {e(vendor.title)}</button></form>'
            "</section>"
        )
    if available:
        links = "".join(
            f'<li><a href="/connect/{e(v.name)}">Connect {e(v.title)}</a></li>' for v in available
        )
        parts.append(f"<h2>Connect a bulb maker</h2><ul>{links}</ul>")
    parts.append('<h2>Your account</h2><p><a href="/account/delete">Delete my account</a></p>')
    return "".join(parts)


def connect_form(
    vendor: str,
    title: str,
    kind: CredentialKind,
    csrf: str,
    *,
    error: str | None = None,
    help_text: str | None = None,
) -> str:
    if kind is CredentialKind.OAUTH:
        return (
            f"<h1>Connect {e(title)}</h1>{alert(error)}"
            f"<p>You will sign in at {e(title)} and allow this skill to control your lights.</p>"
            f'<p><a class="button" href="/connect/{e(vendor)}/start">Continue to {e(title)}</a></p>'
            '<p><a href="/">Cancel</a></p>'
        )
    fields = "".join(
        f'<label for="{name}">{e(label)}</label>'
        f'<input type="password" id="{name}" name="{name}" autocomplete="off" required '
        f'spellcheck="false" autocapitalize="none">'
        for name, label in FIELDS[kind]
    )
    hint = f'<p class="hint">{e(help_text)}</p>' if help_text else ""
    return (
        f"<h1>Connect {e(title)}</h1>{alert(error)}{hint}"
        f'<form method="post" action="/connect/{e(vendor)}">{csrf_field(csrf)}{fields}'
        f'<button type="submit">Connect</button></form><p><a href="/">Cancel</a></p>'
    )


def webhook_question(vendor: str, title: str, others: list[str], csrf: str) -> str:
    listed = "".join(f"<li>{e(url)}</li>" for url in others)
    return (
        f"<h1>{e(title)} already sends updates elsewhere</h1>"
        f"<p>Your {e(title)} account sends its updates to another address, perhaps another "
        f"smart-home system:</p><ul>{listed}</ul>"
        f"<p>{e(title)} keeps one address per account. Replace it with this skill's, so that Alexa "
        "hears changes at once? If you keep it, this skill reads your bulbs every few minutes "
        "instead.</p>"
        f'<form method="post" action="/connect/{e(vendor)}/webhook">{csrf_field(csrf)}'
        '<button type="submit" name="replace" value="yes">Replace it</button> '
        '<button class="secondary" type="submit" name="replace" value="no">Keep it</button></form>'
    )


def delete_account(csrf: str) -> str:
    return (
        "<h1>Delete your account</h1>"
        "<p>This disconnects every bulb maker, removes your bulbs from Alexa and deletes your "
        "account here. It cannot be undone.</p>"
        f'<form method="post" action="/account/delete">{csrf_field(csrf)}'
        '<button class="danger" type="submit">Delete my account</button></form>'
        '<p><a href="/">Cancel</a></p>'
    )


def message_page(heading: str, text: str, *, link: str = "/", link_text: str = "Back") -> str:
    return f'<h1>{e(heading)}</h1><p>{e(text)}</p><p><a href="{e(link)}">{e(link_text)}</a></p>'
