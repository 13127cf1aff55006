"""What the browser tests do over and over: sign in (with MFA for staff), pick from a select box,
and prepare or age state in the e2e server's database."""

import re
import time
from datetime import UTC, datetime, timedelta

import pyotp
from playwright.sync_api import Locator, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.models import AuthSession, User
from portal.config import get_settings

DEMO_PASSWORD = "E2e-demo-password-1"  # noqa: S105 - the throwaway demo clinic's password
TOTP_STEP = 30
# The heading of the signed-in patient's home page: proof that a page is the portal, not sign-in.
PATIENT_HOME = "Upcoming visits"


class Authenticator:
    """A staff member's authenticator app. It never hands out the code of a time step it already
    used, so a portal that refuses a replayed code still accepts every sign-in: it uses the next
    step (the portal accepts one step either side), or waits for the clock when that is used too.
    """

    def __init__(self, secret: str):
        self.secret = secret
        self._totp = pyotp.TOTP(secret)
        self._last_step = -1

    def code(self) -> str:
        step = max(int(time.time()) // TOTP_STEP, self._last_step + 1)
        while step > int(time.time()) // TOTP_STEP + 1:
            time.sleep(1)  # a third sign-in within one 30 s window: wait for the next window
        self._last_step = step
        return self._totp.at(step * TOTP_STEP)


def send_sign_in(page: Page, url: str | None, username: str, password: str) -> None:
    """Type into the sign-in form as soon as it shows, once, and send it. No second try: a form
    that lost what was typed is a bug a test must show. ``url=None`` uses the tab's current
    sign-in screen (the next person at a shared computer)."""
    if url is not None:
        page.goto(url)
    user_box = page.get_by_label("Username", exact=True)
    expect(user_box).to_be_visible()
    user_box.fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page: Page, url: str | None, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in; return once the form is gone (signed in, or the two-step code is asked for)."""
    send_sign_in(page, url, username, password)
    expect(page.get_by_label("Username", exact=True)).to_have_count(0)


def signed_in(page: Page) -> None:
    """Wait for the end of signing in: the login cookie is written (by a script component whose
    report reruns the app) and that run is over. A click before then can be lost to that run."""
    name = get_settings().cookie_name
    page.wait_for_function(f"document.cookie.includes('{name}=')", polling=200)
    settled(page)


def sign_in_patient(page: Page, url: str, username: str = "patient") -> None:
    sign_in(page, url, username)
    expect(page.get_by_text(PATIENT_HOME)).to_be_visible()
    signed_in(page)


def open_page(page: Page, title: str) -> None:
    """Follow a link of the page menu once the current run is over."""
    settled(page)
    page.get_by_role("link", name=title, exact=True).click()


def enrol_mfa(page: Page) -> Authenticator:
    """Staff must set up an authenticator on first sign-in: read the key, answer with its code."""
    expect(page.get_by_text("Set up two-step sign-in")).to_be_visible()
    secret = page.locator("[data-testid='stCode'] code").first.inner_text().strip()
    app = Authenticator(secret)
    page.get_by_label("Code from the app").fill(app.code())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_text("Save these recovery codes")).to_be_visible()
    page.get_by_role("button", name="I have saved my codes").click()
    return app


def sign_in_staff(
    page: Page, url: str | None, username: str, apps: dict[str, Authenticator]
) -> None:
    """Password, then MFA: enrol on the user's first sign-in in this server, else a fresh code."""
    sign_in(page, url, username)
    if username not in apps:
        apps[username] = enrol_mfa(page)
    else:
        page.get_by_label("Code", exact=True).fill(apps[username].code())
        page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    signed_in(page)


def expect_confirmation(page: Page, text: str, *, exact: bool = False) -> None:
    """An action's confirmation, seen: as a toast on screen wherever the person is scrolled to
    (the button may be far down the page), and in the message area at the top of the page."""
    expect(page.get_by_test_id("stToast").get_by_text(text, exact=exact)).to_be_in_viewport()
    expect(page.get_by_test_id("stAlertContainer").get_by_text(text, exact=exact)).to_be_visible()


def settled(page: Page) -> None:
    """Wait until the app has finished its script run: widgets drawn by a run still under way can
    be replaced under the mouse. Call after waiting for something only the new run draws."""
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")


# Counts the script runs the page has finished. A pick in a select box starts its run some
# milliseconds after the click returns, so "no run under way" right after a pick is not yet the
# page the pick leads to; a person sees the page change before the next step.
_COUNT_FINISHED_RUNS = """() => {
  if (window.__portalRunsFinished === undefined) {
    window.__portalRunsFinished = 0;
    new MutationObserver((changes) => {
      for (const change of changes) {
        if (change.target.getAttribute('data-test-script-state') === 'notRunning') {
          window.__portalRunsFinished += 1;
        }
      }
    }).observe(document.body, {
      attributes: true, subtree: true, attributeFilter: ['data-test-script-state'],
    });
  }
  return window.__portalRunsFinished;
}"""


# Resolves in the next frame, after the browser has reported that frame's scroll events.
_NEXT_FRAME = "() => new Promise((done) => requestAnimationFrame(() => done()))"


def bring_into_view(page: Page, target: Locator) -> None:
    """Scroll ``target`` into view and let the page see that scroll, as a person scrolls to a box
    before pressing it. Playwright's click scrolls and presses in one frame; the scroll event then
    arrives after the press, and a select box closes its list whenever the page scrolls under it
    (React Aria's close-on-scroll, Streamlit's select box since 1.67): a click on a box out of
    view would open nothing."""
    target.scroll_into_view_if_needed()
    page.evaluate(_NEXT_FRAME)


def choose(page: Page, label: str, option_text: str) -> None:
    """Pick the option containing ``option_text`` in the select box labelled ``label``, and
    return once the run the pick started is over (its page drawn), as a person would wait."""
    box = page.get_by_role("combobox", name=label, exact=True)
    wanted = re.compile(re.escape(option_text))
    settled(page)
    if wanted.search(box.input_value()):
        return  # already chosen: picking it again starts no run
    finished = page.evaluate(_COUNT_FINISHED_RUNS)
    bring_into_view(page, box)
    box.click()
    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    listbox.get_by_role("option").filter(has_text=option_text).first.click()
    expect(box).to_have_value(wanted)
    page.wait_for_function("n => window.__portalRunsFinished > n", arg=finished)
    settled(page)


def user_named(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def age_live_sessions(engine: Engine, username: str, idle_for: timedelta) -> int:
    """Make every live session of the user look idle for ``idle_for``; returns how many."""
    last_seen = datetime.now(UTC) - idle_for
    with Session(engine) as session:
        user = user_named(session, username)
        rows = session.exec(
            select(AuthSession).where(
                AuthSession.user_id == user.id, col(AuthSession.ended_at).is_(None)
            )
        ).all()
        for row in rows:
            row.last_seen_at = last_seen
            session.add(row)
        session.commit()
        return len(rows)


def latest_session(engine: Engine, username: str) -> AuthSession:
    with Session(engine) as session:
        user = user_named(session, username)
        return session.exec(
            select(AuthSession)
            .where(AuthSession.user_id == user.id)
            .order_by(col(AuthSession.id).desc())
        ).first()


def idle_limit() -> timedelta:
    return timedelta(minutes=get_settings().session_idle_minutes)
