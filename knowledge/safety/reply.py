"""The crisis reply for a kind of danger: the right help first, then the council, then a worker.

A pure function of (kind, the council's contacts, channel, time, age) over kinds.yml, so the
action server and the channels' failure path give the same words. It returns up to three
messages:

1. the kind's help: its opening line (feelings before facts), 999 first when the kind is
   immediate danger, its services in order (those whose age limits exclude a young person
   of known age are left out), advice, and when to call 999 otherwise; on the web with
   tap-to-call / tap-to-text buttons;
2. the council's out-of-hours team (if the offer file has one) and one honest line on who is
   told and when a worker will see it (the leaving care team's office hours);
3. the offer of a worker, or, for abuse at home, first whether it is safe to contact them on
   this phone. Left out where nobody can act on the answer (the failure path).

SMS replies are plain GSM-7 (kinds.yml is plain ASCII, checked when loaded) and the help
is kept to MAX_SMS_SEGMENTS by leaving out the last services (never 999).

No Rasa here: the caller turns the messages into its own format.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from knowledge.content import DAYS, Contact
from knowledge.hours import LONDON, clock, describe_hours, is_open, span_times

from .kinds import EMERGENCY, Kind, Service, ServiceUse, Taxonomy, default_kinds

__all__ = ["CONCERN", "CRISIS", "FAILURE", "SAFETY", "Button", "CouncilContacts", "CrisisReply", "ReplyMessage", "compose", "contact_declined", "failure_help",
           "failure_text", "service_button", "MAX_SMS_SEGMENTS"]

MAX_SMS_SEGMENTS = 4  # the crisis help may run past the usual 3 (bot/channels/sms.py keeps it whole)
# The structured mark on a safety message, a key of the message itself: channels tell the crisis
# reply from an answer by it (never by searching the words: the failure reply says "call 999" too).
SAFETY = "safety"
CRISIS, CONCERN, FAILURE = "crisis", "concern", "failure"  # CONCERN is also the detector's level name
MAX_BUTTONS = 4
SMS, REST = "sms", "rest"


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class ReplyMessage:
    text: str
    buttons: Tuple[Button, ...] = ()
    safety: Optional[str] = None  # CRISIS, CONCERN or FAILURE: what kind of safety message this is

    def as_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"text": self.text}
        if self.buttons:
            out["buttons"] = [{"title": b.title, "payload": b.payload} for b in self.buttons]
        if self.safety:
            out[SAFETY] = self.safety
        return out


@dataclass(frozen=True)
class CouncilContacts:
    """The contacts of the young person's council (None when unknown or unreadable)."""

    emergency: Optional[Contact] = None  # emergency_duty_team
    leaving_care: Optional[Contact] = None  # leaving_care_team


@dataclass(frozen=True)
class CrisisReply:
    kind: Optional[Kind]
    help: Optional[ReplyMessage]  # None when the kind is unknown: use the generic crisis reply
    council: ReplyMessage
    offer: Optional[ReplyMessage] = None
    services: Tuple[str, ...] = field(default=())  # ids of the services given, in order

    @property
    def messages(self) -> List[ReplyMessage]:
        return [m for m in (self.help, self.council, self.offer) if m is not None]


def _digits(phone: str) -> str:
    return re.sub(r"[^\d+]", "", phone)


def _local(now: Optional[dt.datetime]) -> dt.datetime:
    now = now or dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    return now.astimezone(LONDON)


def closes_at(contact: Contact, now: Optional[dt.datetime] = None) -> str:
    """'5pm': when an open contact closes today ('midnight' for a day that runs to 24:00)."""
    if contact.hours == "always":
        return "any time"
    local = _local(now)
    span = (contact.hours or {}).get(DAYS[local.weekday()])
    if not span:
        return ""
    end = span.split("-")[1]
    return "midnight" if end == "24:00" else clock(span_times(span)[1])


def next_opening(contact: Contact, now: Optional[dt.datetime] = None) -> str:
    """'today from 9am' / 'tomorrow from 9am' / 'on Monday from 9am' / '' (never opens)."""
    local = _local(now)
    hours = contact.hours if isinstance(contact.hours, dict) else {}
    for offset in range(0, 8):
        day = (local.weekday() + offset) % 7
        span = hours.get(DAYS[day])
        if not span:
            continue
        start, _ = span_times(span)
        if offset == 0 and local.time() >= start:
            continue
        if offset == 0:
            return f"today from {clock(start)}"
        if offset == 1:
            return f"tomorrow from {clock(start)}"
        return f"on {(local + dt.timedelta(days=offset)).strftime('%A')} from {clock(start)}"
    return ""


def _service_line(use: ServiceUse, contacts: CouncilContacts) -> Tuple[Optional[str], Optional[Button]]:
    service = use.service
    if service.from_council:
        contact = contacts.emergency if service.from_council == "emergency_duty_team" else contacts.leaving_care
        if contact is None or not contact.phone:
            return service.say_unknown, None
        hours = describe_hours(contact.hours)
        template = use.say if hours else use.say.replace(" ({hours})", "").replace("({hours})", "")
        text = template.format(name=contact.name, phone=contact.phone, hours=hours)
        return text, Button(f"Call {contact.name}", f"tel:{_digits(contact.phone)}")
    return use.say, service_button(service)


def service_button(service: Service) -> Optional[Button]:
    """The tap-to-call (or text, or open) button for a service, 999 as "Call 999"."""
    if service.id == EMERGENCY:
        return Button("Call 999", "tel:999")
    name = re.sub(r"\s*\([^)]*\)", "", service.name).strip()  # "Police (not an emergency)" -> "Police"
    if service.phone:
        number = "" if _digits(service.phone) in _digits(name) else f" ({service.phone})"
        return Button(f"Call {name}{number}", f"tel:{_digits(service.phone)}")
    if service.text_to:
        message = f"Text {service.text_message} to {service.text_to}" if service.text_message else f"Text {service.text_to}"
        return Button(message, f"sms:{service.text_to}")
    if service.website:
        return Button(f"Open {name}", service.website)
    return None


def _sms_segments(text: str) -> int:
    size = len(text)  # kinds.yml is plain ASCII, so one septet a character
    return 1 if size <= 160 else math.ceil(size / 153)


def _help(kind: Kind, contacts: CouncilContacts, channel: str, age: Optional[float]) -> Tuple[ReplyMessage, Tuple[str, ...], bool]:
    """The kind's help message, the ids of the services in it, and whether it gave the council's number."""
    uses = [use for use in kind.services if use.service.suits(age)]
    gave_council = False

    def build(chosen: List[ServiceUse]) -> Tuple[str, List[Button], bool]:
        lines = [kind.opening]
        buttons: List[Button] = []
        council = False
        rest = chosen
        if kind.immediate_danger and chosen and chosen[0].service.id == EMERGENCY:
            lines.append(chosen[0].say)
            buttons.append(Button("Call 999", "tel:999"))
            rest = chosen[1:]
            if kind.advice:
                lines.append(kind.advice)
        elif kind.advice:
            lines.append(kind.advice)
        for use in rest:
            text, button = _service_line(use, contacts)
            if text:
                lines.append(text)
            if button:
                buttons.append(button)
                council = council or bool(use.service.from_council)
        if kind.danger_line:
            lines.append(kind.danger_line)
        return "\n".join(lines), buttons, council

    text, buttons, gave_council = build(uses)
    if channel == SMS:
        # keep the phone screen (and the bill) short: drop the last services, never 999
        while _sms_segments(text) > MAX_SMS_SEGMENTS and len(uses) > 1:
            uses = uses[:-1]
            text, buttons, gave_council = build(uses)
        return ReplyMessage(text, safety=CRISIS), tuple(u.service.id for u in uses), gave_council
    if not kind.immediate_danger:
        buttons = buttons[: MAX_BUTTONS - 1] + [Button("Call 999", "tel:999")]
    return ReplyMessage(text, tuple(buttons[:MAX_BUTTONS]), CRISIS), tuple(u.service.id for u in uses), gave_council


def _worker_line(lines: Dict[str, str], team: Optional[Contact], now: Optional[dt.datetime], worker_told: bool) -> str:
    if not worker_told:
        return lines["worker_not_told"]
    if team is None:
        return lines["worker_no_council"]
    if not team.hours:
        return lines["worker_no_hours"].format(team=team.name)
    if is_open(team, now):
        return lines["worker_open"].format(team=team.name, until=closes_at(team, now))
    when = next_opening(team, now)
    if not when:
        return lines["worker_no_hours"].format(team=team.name)
    return lines["worker_closed"].format(team=team.name, when=when)


def compose(
    kind_id: Optional[str],
    contacts: CouncilContacts = CouncilContacts(),
    channel: str = REST,
    *,
    now: Optional[dt.datetime] = None,
    age: Optional[float] = None,
    worker_told: bool = True,
    offer: bool = True,
    taxonomy: Optional[Taxonomy] = None,
) -> CrisisReply:
    """The crisis reply for `kind_id` (None or unknown: no help message, use the generic one).

    `channel` is "rest" (text + tel:/sms: buttons) or "sms" (short plain text, no buttons but
    the offer's, which the SMS channel numbers). `worker_told` says whether an urgent referral
    is being made (the failure path cannot promise one); `offer` whether to ask about a worker.
    """
    taxonomy = taxonomy or default_kinds()
    kind = taxonomy.kind(kind_id)
    help_message, services, gave_council = (None, (), False)
    if kind is not None:
        help_message, services, gave_council = _help(kind, contacts, channel, age)
    lines: List[str] = []
    buttons: List[Button] = []
    edt = contacts.emergency
    if edt is not None and edt.phone and not gave_council:
        hours = describe_hours(edt.hours)
        template = taxonomy.lines["emergency_team"] if hours else taxonomy.lines["emergency_team_no_hours"]
        lines.append(template.format(name=edt.name, hours=hours, phone=edt.phone))
        if channel != SMS:
            buttons.append(Button(f"Call {edt.name}", f"tel:{_digits(edt.phone)}"))
    lines.append(_worker_line(taxonomy.lines, contacts.leaving_care, now, worker_told))
    council = ReplyMessage("\n".join(lines), tuple(buttons), CRISIS)
    offer_message = None
    if offer and worker_told:
        if kind is not None and kind.ask_phone_safe:
            offer_message = ReplyMessage(taxonomy.lines["offer_phone_safe"],
                                         (Button("Yes, it's safe", "yes"), Button("No, it's not safe", "no")), CRISIS)
        else:
            is_open_now = contacts.leaving_care is not None and is_open(contacts.leaving_care, now)
            text = taxonomy.lines["offer_open" if is_open_now else "offer_closed"]
            offer_message = ReplyMessage(text, (Button("Yes, contact me", "yes"), Button("No thanks", "no")), CRISIS)
    return CrisisReply(kind, help_message, council, offer_message, services)


def concern_line(taxonomy: Taxonomy) -> str:
    """One line of help put before an answer when the classifier, but no pattern, saw possible
    danger (a *concern*): 999 if not safe now, and Samaritans, who take any worry.

    Why before the answer and not instead of it: at that score most such messages were
    ordinary hard-times questions, so the question is answered; but if it was danger, the
    young person still sees where to get help, and staff are told. Why not the kind's own
    helpline: below the alert level the kind is a guess (a sexual-abuse line for "me and my
    PA don't click" would be jarring); the kind goes to staff in the note instead."""
    samaritans = taxonomy.services.get("samaritans")
    line = samaritans.say if samaritans is not None else "Samaritans: call 116 123, free, any time."
    return f"If you're not safe right now, call 999. {line}"


def contact_declined(kind_id: Optional[str], channel: str = REST, taxonomy: Optional[Taxonomy] = None) -> ReplyMessage:
    """The answer to "no" after the offer of a worker.

    For abuse at home the question was whether this phone is safe, so "no" means "don't use
    it": say nobody will, and how to hide this chat (the widget's quick-exit button, or
    deleting texts). Otherwise "no" is "no thanks": respect it, and say honestly that the
    team still knows (the urgent referral was already made) and the numbers stay there."""
    taxonomy = taxonomy or default_kinds()
    kind = taxonomy.kind(kind_id)
    lines = taxonomy.lines
    if kind is not None and kind.ask_phone_safe:
        hint = lines["phone_not_safe_sms" if channel == SMS else "phone_not_safe_web"]
        return ReplyMessage(f"{lines['phone_not_safe']}\n{hint}")
    return ReplyMessage(lines["contact_declined"])


def failure_help(contacts: CouncilContacts = CouncilContacts(), now: Optional[dt.datetime] = None, *,
                 at_any_time: bool = False, taxonomy: Optional[Taxonomy] = None) -> str:
    """Who to call when the bot cannot answer: a number that answers now, then 999.

    Why: the failure reply used to give only the leaving care team's office number, even at
    night, when nobody answers it. With the time known, an open team is given with its
    closing time, a closed one with when it opens, and out of hours the council's emergency
    duty team. `at_any_time` is for a client that shows the words later (the widget, when it
    cannot reach the site): both numbers with their hours, since the time is not known now."""
    taxonomy = taxonomy or default_kinds()
    lines = taxonomy.lines
    team, edt = contacts.leaving_care, contacts.emergency
    open_now = None if at_any_time or team is None or not team.hours or team.hours == "always" else is_open(team, now)
    out: List[str] = []
    if team is not None and team.phone:
        hours = describe_hours(team.hours)
        when = next_opening(team, now) if open_now is False else ""
        if open_now:
            out.append(lines["failure_team_open"].format(team=team.name, phone=team.phone, until=closes_at(team, now)))
        elif when:
            out.append(lines["failure_team_closed"].format(team=team.name, when=when))
        elif hours:
            out.append(lines["failure_team"].format(team=team.name, phone=team.phone, hours=hours))
        else:
            out.append(lines["failure_team_no_hours"].format(team=team.name, phone=team.phone))
    if edt is not None and edt.phone and not open_now:
        hours = describe_hours(edt.hours)
        template = lines["failure_emergency"] if hours else lines["failure_emergency_no_hours"]
        out.append(template.format(name=edt.name, phone=edt.phone, hours=hours))
    out.append(lines["failure_danger"])
    return " ".join(out)


def failure_text(contacts: CouncilContacts = CouncilContacts(), now: Optional[dt.datetime] = None, *,
                 taxonomy: Optional[Taxonomy] = None) -> str:
    """The whole reply of a turn that failed: sorry, then failure_help at this time."""
    taxonomy = taxonomy or default_kinds()
    return f"{taxonomy.lines['failure_sorry']} {failure_help(contacts, now, taxonomy=taxonomy)}"
