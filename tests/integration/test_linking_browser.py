"""The linking pages in a real browser: headless Chromium (the machine's package, installed by
``make browser``) driven by Selenium, on the local stack (pages, sign-in stand-in, simulator,
fake event gateway all on loopback).

The demo user starts with only sim-optimistic connected. In order:

1. sign in as the demo user through the local stand-in for the Cognito managed login (the
   session cookie is ``Secure``: Chromium keeps it from ``http://127.0.0.1``, a loopback
   origin it counts as potentially trustworthy);
2. connect sim-polling (an API key, like Govee) with a wrong key: the vendor's refusal is on
   the page, and what was typed is not;
3. connect it with the right key: its bulbs are listed;
4. turn one of them on as ``skill invoke`` does (the stack's entrypoint, the demo user's access
   token): the Response reaches the fake event gateway;
5. disconnect it on the page: the DeleteReport reaches the fake event gateway;

then connect an OAuth vendor (sim-sync) through the simulator's consent page, and answer the
one-webhook question of sim-async (SwitchBot-like: the account already pushes to another URL;
"Keep it" leaves that URL and the page says the bulbs are read by polling).

Every page visited is saved as a PNG under the run's temporary folder (``<basetemp>/
screenshots``, its path printed at the end) and copied to ``test-output/screenshots/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bulb_workbench.local.stack import LocalStack, discover

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"
COPY_TO = REPO / "test-output" / "screenshots"
WAIT = 10.0
OTHER_WEBHOOK = "http://127.0.0.1:9/other"


# -- the browser ----------------------------------------------------------------------------------


def _installed(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (
            f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else None
        )
        if found:
            return found
    return None


class Browser:
    """A Chromium session that saves a screenshot of every page it shows."""

    def __init__(self, driver: Any, folder: Path) -> None:
        self.driver = driver
        self.folder = folder
        self.shots: list[Path] = []

    # what the page says
    @property
    def text(self) -> str:
        from selenium.webdriver.common.by import By

        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    @property
    def url(self) -> str:
        return str(self.driver.current_url)

    def wait_for(self, what: str | Callable[[], bool], timeout: float = WAIT) -> None:
        """Until the page's text holds ``what`` (or ``what()`` is true)."""
        from selenium.common.exceptions import WebDriverException

        check = what if callable(what) else (lambda: what in self.text)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if check():
                    return
            except WebDriverException:
                pass  # the page is being replaced
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"waited {timeout:g} s for {what!r}; at {self.url}:\n{self.text[:2000]}"
                )
            time.sleep(0.05)

    # doing things
    def open(self, url: str) -> None:
        self.driver.get(url)

    def element(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def link(self, text: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.LINK_TEXT, text)

    def button(self, text: str) -> Any:
        from selenium.webdriver.common.by import By

        for button in self.driver.find_elements(By.TAG_NAME, "button"):
            if button.text.strip() == text:
                return button
        raise AssertionError(f"no button {text!r} on {self.url}:\n{self.text[:2000]}")

    def fill(self, css: str, value: str) -> None:
        field = self.element(css)
        field.clear()
        field.send_keys(value)

    def shot(self, name: str) -> Path:
        """A PNG of the whole page (beyond the window), numbered in the order taken."""
        import base64

        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        width = max(int(size["width"]), 1)
        height = max(int(size["height"]), 1)
        picture = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            },
        )
        path = self.folder / f"{len(self.shots) + 1:02d}-{name}.png"
        path.write_bytes(base64.b64decode(picture["data"]))
        self.shots.append(path)
        return path


def _chromium(profile: Path) -> Any:
    chromium = _installed("chromium", "chromium-browser", "google-chrome")
    driver_path = _installed("chromedriver")
    if not chromium or not driver_path:
        pytest.fail(
            "the browser tests need headless Chromium and chromedriver from the machine's package "
            f"manager (found chromium: {chromium}, chromedriver: {driver_path}): run `make "
            "browser` (Debian: apt-get install chromium chromium-driver)",
            pytrace=False,
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(
            "selenium is missing: run `make venv` (it is in the test extras)", pytrace=False
        )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-proxy-server",
        "--disable-dev-shm-usage",
        "--window-size=1000,800",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    # the driver's path is given: Selenium Manager has nothing to find, and may fetch nothing
    os.environ["SE_OFFLINE"] = "true"
    return webdriver.Chrome(service=Service(executable_path=driver_path), options=options)


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    # the demo user has connected one vendor only: the others are connected on the pages
    with LocalStack(latency=0.01, transition=0.2, demo_vendors="sim-optimistic") as running:
        running.link_demo_user()  # AcceptGrant: the dispatcher can post to the gateway
        yield running


@pytest.fixture(scope="module")
def screenshots(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("screenshots", numbered=False)
    yield folder
    shutil.rmtree(COPY_TO, ignore_errors=True)
    COPY_TO.mkdir(parents=True, exist_ok=True)
    for png in sorted(folder.glob("*.png")):
        shutil.copy2(png, COPY_TO / png.name)
    line = f"screenshots of the linking pages: {folder} (copied to {COPY_TO})"
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        print(f"\n{line}", flush=True)


@pytest.fixture(scope="module")
def browser(screenshots: Path) -> Iterator[Browser]:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        driver = _chromium(Path(profile))
        driver.set_page_load_timeout(WAIT * 2)
        try:
            yield Browser(driver, screenshots)
        finally:
            driver.quit()


def sign_in(browser: Browser, stack: LocalStack) -> None:
    """Through the stand-in login, unless the browser's session is still on."""
    browser.open(stack.linking_url)
    if "Signed in as" in browser.text:
        return
    browser.wait_for("Connect your lights to Alexa")
    browser.shot("welcome")
    browser.link("Sign in").click()
    browser.wait_for("LOCAL STAND-IN")
    assert browser.url.startswith(stack.login_url)
    browser.shot("login-stand-in")
    demo = stack.urls()["demo_user"]
    browser.fill("#username", demo["username"])
    browser.fill("#password", demo["password"])
    browser.button("Sign in").click()
    browser.wait_for("Signed in as")


def gateway_events(stack: LocalStack, name: str, vendor: str) -> list[dict[str, Any]]:
    """The events named ``name`` the fake gateway accepted about ``vendor``'s bulbs."""
    found = []
    for message in stack.gateway.accepted():
        event = message.get("event", {})
        if event.get("header", {}).get("name") != name:
            continue
        endpoints = [*event.get("payload", {}).get("endpoints", []), event.get("endpoint", {})]
        if any(str(e.get("endpointId", "")).startswith(f"{vendor}:") for e in endpoints):
            found.append(message)
    return found


# -- the tests ------------------------------------------------------------------------------------


def test_sign_in_connect_a_key_vendor_control_a_bulb_and_disconnect(
    stack: LocalStack, browser: Browser
) -> None:
    # 1. sign in as the demo user
    sign_in(browser, stack)
    assert browser.url.rstrip("/") == stack.linking_url.rstrip("/")
    assert "Your lights" in browser.text and "Simulated optimistic cloud" in browser.text
    session = {c["name"]: c for c in browser.driver.get_cookies()}.get("bulb_skill_session")
    assert session is not None, (
        "Chromium did not keep the Secure session cookie from http://127.0.0.1"
    )
    assert session["secure"] and session["httpOnly"] and session.get("sameSite") == "Lax"
    browser.shot("home-signed-in")

    # 2. sim-polling with a wrong key: the vendor's reason, nothing stored, the key not shown
    browser.link("Connect Simulated polling cloud").click()
    browser.wait_for("API key")
    browser.shot("connect-key-form")
    browser.fill("#api_key", "not-my-key-123")
    browser.button("Connect").click()
    browser.wait_for("did not accept this")
    alert = browser.element("[role=alert]").text
    assert "Simulated polling cloud did not accept this" in alert and "Nothing was saved" in alert
    assert "not-my-key-123" not in browser.driver.page_source
    assert "sim-polling" not in stack.accounts.credentials.connected(stack.demo_user_id)
    browser.shot("connect-key-refused")

    # 3. the right key: its bulbs are listed
    key = stack.vendor_credential("sim-polling").api_key.get_secret_value()
    browser.fill("#api_key", key)
    browser.button("Connect").click()
    browser.wait_for("Connected.")
    polling = browser.element("section[aria-labelledby='v-sim-polling']").text
    bulbs = [line for line in polling.splitlines() if line.endswith(": reachable")]
    assert len(bulbs) >= 2, polling
    assert key not in browser.driver.page_source
    browser.shot("connected-key-vendor")

    # 4. Alexa discovers the new bulbs and turns one on, as `skill invoke` plays a file: the
    #    entrypoint with the demo user's access token in place of demo-token
    token = stack.demo_token()
    found = stack.invoke(discover(token))
    endpoints = [e["endpointId"] for e in found["event"]["payload"]["endpoints"]]
    assert "sim-polling:color-1" in endpoints, endpoints
    turn_on = stack.with_demo_token(json.loads((EVENTS / "TurnOn.polling.json").read_text()), token)
    answer = stack.invoke(turn_on)
    assert answer["event"]["header"]["name"] == "DeferredResponse", answer
    final = stack.wait_for_answer(turn_on["directive"]["header"]["correlationToken"])
    assert final and final[-1]["event"]["header"]["name"] == "Response", final
    power = [p for p in final[-1]["context"]["properties"] if p["name"] == "powerState"]
    assert power and power[0]["value"] == "ON"
    assert stack.simulator.state("sim-polling", "color-1")["on"] is True

    # 5. disconnect on the page: the DeleteReport reaches the gateway
    browser.open(stack.linking_url)
    browser.wait_for("Disconnect Simulated polling cloud")
    browser.button("Disconnect Simulated polling cloud").click()
    browser.wait_for("Disconnected.")
    assert "Connect Simulated polling cloud" in browser.text
    browser.shot("disconnected")
    deadline = time.monotonic() + WAIT
    while not gateway_events(stack, "DeleteReport", "sim-polling") and time.monotonic() < deadline:
        time.sleep(0.1)
    [report] = gateway_events(stack, "DeleteReport", "sim-polling")
    gone = {e["endpointId"] for e in report["event"]["payload"]["endpoints"]}
    assert "sim-polling:color-1" in gone and all(e.startswith("sim-polling:") for e in gone)
    assert "sim-polling" not in stack.accounts.credentials.connected(stack.demo_user_id)


def test_connect_an_oauth_vendor_through_its_consent_page(
    stack: LocalStack, browser: Browser
) -> None:
    sign_in(browser, stack)
    browser.link("Connect Simulated sync cloud").click()
    browser.wait_for("Continue to Simulated sync cloud")
    browser.shot("connect-oauth")
    browser.link("Continue to Simulated sync cloud").click()
    browser.wait_for("Allow access")
    assert browser.url.startswith(stack.simulator.url + "/sim-sync/oauth/authorize")
    browser.shot("vendor-consent")
    browser.button("Allow").click()
    browser.wait_for("Connected.")
    assert browser.url.startswith(stack.linking_url)
    section = browser.element("section[aria-labelledby='v-sim-sync']").text
    assert section.count(": reachable") >= 2, section
    browser.shot("connected-oauth-vendor")
    assert "sim-sync" in stack.accounts.credentials.connected(stack.demo_user_id)


def test_a_vendor_with_one_webhook_asks_before_replacing_it(
    stack: LocalStack, browser: Browser
) -> None:
    # the account already pushes to another smart-home system (set without the vendor's checks)
    requests.post(
        f"{stack.simulator.url}/_sim/sim-async/webhook", json={"url": OTHER_WEBHOOK}, timeout=5
    ).raise_for_status()
    sign_in(browser, stack)
    browser.link("Connect Simulated async cloud").click()
    browser.wait_for("Secret key")
    credential = stack.vendor_credential("sim-async")
    browser.fill("#key", credential.key.get_secret_value())
    browser.fill("#secret", credential.secret.get_secret_value())
    browser.shot("connect-key-and-secret")
    browser.button("Connect").click()
    browser.wait_for("already sends updates elsewhere")
    assert OTHER_WEBHOOK in browser.text
    browser.shot("webhook-question")
    browser.button("Keep it").click()
    browser.wait_for("Connected. This skill reads these bulbs every few minutes.")
    section = browser.element("section[aria-labelledby='v-sim-async']").text
    assert "read every few minutes" in section and ": reachable" in section, section
    browser.shot("kept-other-webhook-polling")
    assert stack.simulator.account_webhook("sim-async") == OTHER_WEBHOOK
    stored = stack.accounts.credentials.stored(stack.demo_user_id, "sim-async")
    assert stored.push is False

    # the home page on a phone's width
    browser.driver.set_window_size(390, 844)
    try:
        browser.open(stack.linking_url)
        browser.wait_for("Your lights")
        browser.shot("home-phone-width")
    finally:
        browser.driver.set_window_size(1000, 800)


def test_the_delete_account_page_asks_first(stack: LocalStack, browser: Browser) -> None:
    sign_in(browser, stack)
    browser.link("Delete my account").click()
    browser.wait_for("It cannot be undone")
    browser.shot("delete-account")
    browser.link("Cancel").click()
    browser.wait_for("Your lights")
    assert stack.accounts.credentials.connected(stack.demo_user_id)


def test_signing_out_goes_through_the_managed_login_back_to_the_welcome(
    stack: LocalStack, browser: Browser
) -> None:
    sign_in(browser, stack)
    browser.button("Sign out").click()
    browser.wait_for(
        lambda: "bulb_skill_session" not in {c["name"] for c in browser.driver.get_cookies()}
    )
    try:
        browser.wait_for("Connect your lights to Alexa", timeout=3)
    finally:
        browser.shot("signed-out")
