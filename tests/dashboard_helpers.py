"""Shared by the dashboard tests: realistic conversations written through Rasa's own SQL
tracker store, a database on SQLite or PostgreSQL, the dashboard server as a subprocess,
and an HTTP client that keeps the session cookie.

The conversations are stored exactly as the running bot stores them (Rasa's
SQLTrackerStore saving a DialogueStateTracker), so no trained model is needed.
"""
from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Dict, List, Optional

import requests
from sqlalchemy import text

from knowledge.db import make_engine
from services.models import Referral, UnansweredQuestion, create_all
from tests.conftest import ROOT, ModuleServer, start_module_server

DISPLAY_KEY = "test-display-key"
PASSWORD = "a long and unusual passphrase"
NOW = dt.datetime(2026, 11, 25, 12, 0, 0)


@dataclass
class Say:
    """One user turn and what the bot did with it."""

    text: str
    intent: str
    topic: Optional[str] = None
    confidence: float = 0.93
    reply: str = "Here is what the offer says."
    action: str = "action_answer_offer"
    slots: Dict[str, object] = field(default_factory=dict)
    council: Optional[str] = None  # the council named in this turn, if not the conversation's


def tracker_events(turns: List[Say], council: Optional[str], channel: str, start: dt.datetime) -> list:
    """Rasa events for a conversation, timestamped from `start`, 20 seconds apart."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

    clock = iter(start.replace(tzinfo=dt.timezone.utc).timestamp() + 20 * step for step in range(10_000))
    events = [ActionExecuted("action_session_start", timestamp=next(clock)), SessionStarted(timestamp=next(clock)),
              ActionExecuted("action_listen", timestamp=next(clock))]
    for turn in turns:
        intent = {"name": turn.intent, "confidence": turn.confidence}
        events.append(UserUttered(turn.text, intent=intent, parse_data={"intent": intent, "entities": [], "text": turn.text},
                                  input_channel=channel, timestamp=next(clock)))
        if turn.council or council:
            events.append(SlotSet("council", turn.council or council, timestamp=next(clock)))
        if turn.topic:
            events.append(SlotSet("topic", turn.topic, timestamp=next(clock)))
        events += [SlotSet(name, value, timestamp=next(clock)) for name, value in turn.slots.items()]
        events.append(ActionExecuted(turn.action, timestamp=next(clock)))
        events.append(BotUttered(turn.reply, timestamp=next(clock)))
        events.append(ActionExecuted("action_listen", timestamp=next(clock)))
    return events


def save_conversation(database_url: str, sender: str, turns: List[Say], council: Optional[str], channel: str,
                      start: dt.datetime) -> None:
    """Store a conversation through Rasa's SQLTrackerStore, as the bot does."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = _domain()
    store = SQLTrackerStore(domain=domain, host=database_url)
    try:
        tracker = DialogueStateTracker.from_events(sender, tracker_events(turns, council, channel, start), slots=domain.slots)
        asyncio.run(store.save(tracker))
    finally:
        store.engine.dispose()


_DOMAIN = []


def _domain():
    """The project's real domain (slots), loaded once."""
    if not _DOMAIN:
        from rasa.shared.core.domain import Domain

        _DOMAIN.append(Domain.load(str(ROOT / "domain.yml")))
    return _DOMAIN[0]


# The scenario every dashboard test reads: two councils, web and SMS, crisis and not.
WALSALL_SMS_CRISIS = "sms-" + "a1" * 16
WALSALL_WEB_GAP = "web-walsall-gap"
WALSALL_WEB_HAPPY = "web-walsall-happy"
NOTTINGHAM_SMS_CRISIS = "sms-" + "b2" * 16
OLD_WALSALL = "web-walsall-old"
SECRET_PHONE = "07700 900123"
SECRET_NAME = "Jordan"
SECRET_CONTACT = "jordan at example dot com"
SECRET_LANDLINE = "01632 960999"  # not given to the form: only the phone pattern hides it


def seed_scenario(database_url: str, now: dt.datetime = NOW) -> None:
    """Write the shared scenario: conversations, referrals and unanswered questions."""
    engine = make_engine(database_url)
    create_all(engine)
    recent = now - dt.timedelta(days=2)
    save_conversation(database_url, WALSALL_SMS_CRISIS, [
        Say("i cant cope any more i want to end it", "crisis", "crisis", 0.99, action="action_crisis"),
        Say(SECRET_NAME, "inform", None, 0.6, slots={"handoff_name": SECRET_NAME}),
        Say(f"text me on {SECRET_PHONE} please", "inform", None, 0.7,
            slots={"handoff_contact_value": SECRET_PHONE}, action="action_submit_referral"),
        Say(f"thanks, {SECRET_NAME} here, I live at 12 Park Road WS1 1AN, landline {SECRET_LANDLINE}", "thank", "smalltalk"),
        Say(f"or e-mail {SECRET_CONTACT}", "inform", None, 0.5, slots={"handoff_contact_value": SECRET_CONTACT}),
    ], "walsall", "sms", recent)
    save_conversation(database_url, WALSALL_WEB_GAP, [
        Say("can i get help paying for a gym membership", "nlu_fallback", "out_of_scope", 0.31, action="action_fallback"),
        Say("what about money for my gym", "nlu_fallback", "out_of_scope", 0.28, action="action_fallback"),
        Say("how much is the setting up home grant", "ask_setting_up_home_grant", "money", 0.97),
    ], "walsall", "rest", recent + dt.timedelta(hours=1))
    save_conversation(database_url, WALSALL_WEB_HAPPY, [
        Say("do i get council tax help", "ask_council_tax", "money", 0.95),
        Say("yes", "rate_helpful", None, 0.99, action="action_thank_rating"),
    ], "walsall", "rest", recent + dt.timedelta(hours=2))
    save_conversation(database_url, NOTTINGHAM_SMS_CRISIS, [
        Say("im not safe at home tonight", "crisis", "crisis", 0.98, action="action_crisis"),
    ], "nottingham", "sms", recent + dt.timedelta(hours=3))
    save_conversation(database_url, OLD_WALSALL, [
        Say("can i get a bus pass", "ask_leisure", "leisure", 0.9),
    ], "walsall", "rest", now - dt.timedelta(days=120))
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        session.add(Referral(conversation_id=WALSALL_SMS_CRISIS, channel="sms", council_id="walsall", reason="crisis",
                             priority="urgent", first_name=SECRET_NAME, contact_method="sms", contact_value=SECRET_PHONE,
                             message=f"please ring {SECRET_PHONE}", created_at=recent, updated_at=recent))
        session.add(Referral(conversation_id=NOTTINGHAM_SMS_CRISIS, channel="sms", council_id="nottingham",
                             reason="crisis", priority="urgent", created_at=recent, updated_at=recent))
        session.add(UnansweredQuestion(conversation_id=WALSALL_WEB_GAP, council_id="walsall", topic="leisure",
                                       intent="ask_leisure", text="is there free swimming for care leavers",
                                       created_at=recent))
        session.add(UnansweredQuestion(conversation_id=NOTTINGHAM_SMS_CRISIS, council_id="nottingham", topic="housing",
                                       intent="ask_housing", text="nottingham only secret question", created_at=recent))
    engine.dispose()


def add_staff(database_url: str, email: str, role: str, council: Optional[str]) -> None:
    from bot.dashboard.auth import add_user

    engine = make_engine(database_url)
    create_all(engine)
    add_user(engine, email, PASSWORD, role, council)
    engine.dispose()


def start_dashboard(database_url: str, folder: Path) -> ModuleServer:
    """`python -m bot.dashboard --port N` on a free port, waiting until it answers."""
    return start_module_server("bot.dashboard", folder, ready_path="/login", PATHFINDER_DB_URL=database_url,
                               PATHFINDER_DASHBOARD_ID_KEY=DISPLAY_KEY, PATHFINDER_VAR_DIR=str(folder / "var"),
                               PYTHONWARNINGS="ignore")


class Client:
    """HTTP with a cookie jar that sends Secure cookies over http://127.0.0.1, as browsers
    do for localhost (Python's own cookie jar refuses to)."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies: Dict[str, str] = {}

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        reply = requests.request(method, self.base_url + path, headers=headers, allow_redirects=False, timeout=30, **kwargs)
        for header in reply.raw.headers.getlist("Set-Cookie"):
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return reply

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> requests.Response:
        return self.request("POST", path, data=data, **kwargs)

    def csrf_token(self, path: str, action: str = "") -> str:
        """The CSRF token of the form posting to `action` (default: the first form on the page)."""
        page = self.get(path).text
        if action:
            page = page.split(f'action="{action}"', 1)[1]
        marker = 'name="csrf_token" value="'
        return page.split(marker, 1)[1].split('"', 1)[0]

    def login(self, email: str, password: str = PASSWORD) -> requests.Response:
        token = self.csrf_token("/login", action="/login")
        return self.post("/login", {"csrf_token": token, "email": email, "password": password})


def fresh_database(kind: str, folder: Path):
    """(database url, cleanup) for an empty SQLite file or a new PostgreSQL database."""
    if kind == "sqlite":
        return f"sqlite:///{folder / 'dashboard.db'}", lambda: None
    from tests.test_store import postgres_engine

    admin, name, engine = postgres_engine()
    url = str(engine.url.render_as_string(hide_password=False))
    engine.dispose()

    def drop() -> None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop
