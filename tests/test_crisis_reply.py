"""The crisis reply for each kind (knowledge/safety/reply.py): right help first, honest about workers."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.sms_text import is_gsm7, segments
from knowledge.content import Contact
from knowledge.safety.kinds import EMERGENCY, KIND_IDS, default_kinds
from knowledge.safety.reply import MAX_SMS_SEGMENTS, CouncilContacts, compose, failure_help, failure_text, next_opening

WEEKDAYS = {day: "09:00-17:00" for day in ("mon", "tue", "wed", "thu")} | {"fri": "09:00-16:30"}
TEAM = Contact("leaving_care_team", "Leaving Care Team", "01632 960101", hours=WEEKDAYS)
EDT = Contact("emergency_duty_team", "Emergency Duty Team", "01632 960102", hours="always")
COUNCIL = CouncilContacts(emergency=EDT, leaving_care=TEAM)
SATURDAY_NIGHT = dt.datetime(2026, 12, 5, 22, 0, tzinfo=dt.timezone.utc)
MONDAY_MORNING = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone.utc)
KINDS = default_kinds().kinds


def lines(kind, **kw):
    return compose(kind, COUNCIL, now=kw.pop("now", MONDAY_MORNING), **kw).help.text.splitlines()


@pytest.mark.parametrize("kind", [k for k in KIND_IDS if KINDS[k].immediate_danger])
def test_immediate_danger_kinds_put_999_first(kind):
    reply = compose(kind, COUNCIL, now=MONDAY_MORNING)
    text = reply.help.text.splitlines()
    assert text[0] == KINDS[kind].opening  # the feeling first ...
    assert "call 999" in text[1].lower()  # ... then 999
    assert reply.help.buttons[0].payload == "tel:999"
    assert reply.services[0] == EMERGENCY


@pytest.mark.parametrize("kind", [k for k in KIND_IDS if not KINDS[k].immediate_danger])
def test_other_kinds_give_their_own_help_first_and_999_after(kind):
    reply = compose(kind, COUNCIL, now=MONDAY_MORNING)
    text = reply.help.text.splitlines()
    assert text[0] == KINDS[kind].opening
    assert "999" not in text[1]
    assert text[-1] == KINDS[kind].danger_line
    assert reply.help.buttons[-1].payload == "tel:999"


@pytest.mark.parametrize("kind", KIND_IDS)
def test_each_kind_gives_its_services_in_order(kind):
    reply = compose(kind, COUNCIL, now=MONDAY_MORNING)
    expected = [use.service.id for use in KINDS[kind].services]
    assert list(reply.services) == expected  # age unknown: nobody left out
    text = reply.help.text
    positions = []
    for use in KINDS[kind].services:
        needle = use.say if not use.service.from_council else EDT.phone
        assert needle in text, (kind, use.service.id)
        positions.append(text.index(needle))
    assert positions == sorted(positions)


def test_criminal_exploitation_gets_crimestoppers_not_samaritans_first():
    reply = compose("criminal_exploitation", COUNCIL, now=MONDAY_MORNING)
    assert reply.services[0] == "crimestoppers" and "samaritans" not in reply.services
    assert "0800 555 111" in reply.help.text.splitlines()[1]


def test_suicide_opens_with_hope():
    opening = lines("suicide")[0]
    assert "glad you told me" in opening and "can change" in opening


def test_domestic_abuse_asks_if_this_phone_is_safe_before_offering_a_call_back():
    reply = compose("domestic_abuse", COUNCIL, now=MONDAY_MORNING)
    assert "safe for a worker to contact you on this phone" in reply.offer.text
    assert [b.title for b in reply.offer.buttons] == ["Yes, it's safe", "No, it's not safe"]
    assert "0808 2000 247" in reply.help.text
    other = compose("suicide", COUNCIL, now=MONDAY_MORNING)
    assert "this phone" not in other.offer.text


def test_honest_line_when_the_office_is_open():
    reply = compose("suicide", COUNCIL, now=MONDAY_MORNING)
    assert "I'm telling the Leaving Care Team about this. They're open now, until 5pm" in reply.council.text
    assert reply.offer.text == "Would you like a worker to contact you?"


def test_honest_line_when_the_office_is_closed_says_when_a_worker_will_see_it():
    reply = compose("homeless_tonight", COUNCIL, now=SATURDAY_NIGHT)
    assert "no worker is reading this yet. A worker will see it on Monday from 9am." in reply.council.text
    assert "when the office opens" in reply.offer.text
    friday_evening = dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.timezone.utc)
    assert next_opening(TEAM, friday_evening) == "on Monday from 9am"
    assert next_opening(TEAM, dt.datetime(2026, 12, 8, 6, 0, tzinfo=dt.timezone.utc)) == "today from 9am"
    assert next_opening(TEAM, dt.datetime(2026, 12, 8, 18, 0, tzinfo=dt.timezone.utc)) == "tomorrow from 9am"


def test_honest_line_without_a_council_and_when_no_worker_can_be_told():
    assert "don't know your council" in compose("suicide", CouncilContacts(), now=MONDAY_MORNING).council.text
    failed = compose("suicide", COUNCIL, now=MONDAY_MORNING, worker_told=False)
    assert "can't be sure a worker will see this" in failed.council.text
    assert failed.offer is None


def test_council_emergency_team_follows_the_help_with_hours_from_the_content():
    reply = compose("suicide", COUNCIL, now=MONDAY_MORNING)
    assert "Emergency Duty Team (any time, day or night): 01632 960102" in reply.council.text
    assert reply.council.buttons[0].payload == "tel:01632960102"


def test_homeless_tonight_puts_the_council_out_of_hours_number_first():
    reply = compose("homeless_tonight", COUNCIL, now=SATURDAY_NIGHT)
    assert reply.help.text.splitlines()[2].startswith("Call Emergency Duty Team (any time, day or night) on 01632 960102")
    assert "Emergency Duty Team (" not in reply.council.text  # said once
    unknown = compose("homeless_tonight", CouncilContacts(), now=SATURDAY_NIGHT)
    assert "Call your council's out-of-hours number" in unknown.help.text


def test_age_limits_leave_out_services_that_would_turn_them_away():
    assert "Childline" in compose("suicide", COUNCIL, now=MONDAY_MORNING).help.text
    older = compose("suicide", COUNCIL, now=MONDAY_MORNING, age=20)
    assert "Childline" not in older.help.text and "samaritans" in older.services
    sextortion = compose("sextortion", COUNCIL, now=MONDAY_MORNING, age=21)
    assert "ceop" not in sextortion.services and "revenge_porn_helpline" in sextortion.services
    young = compose("sextortion", COUNCIL, now=MONDAY_MORNING, age=17)
    assert "revenge_porn_helpline" not in young.services and "childline_report_remove" in young.services


def test_unknown_kind_leaves_the_help_to_the_generic_reply():
    reply = compose(None, COUNCIL, now=MONDAY_MORNING)
    assert reply.help is None and reply.council and reply.offer


@pytest.mark.parametrize("kind", KIND_IDS)
def test_web_buttons_call_or_text_in_one_tap(kind):
    reply = compose(kind, COUNCIL, now=MONDAY_MORNING)
    assert 1 <= len(reply.help.buttons) <= 4
    for button in reply.help.buttons:
        assert button.payload.startswith(("tel:", "sms:", "https://")), button
        if button.payload.startswith("tel:"):
            assert button.payload[4:].isdigit()


@pytest.mark.parametrize("kind", KIND_IDS)
@pytest.mark.parametrize("council", [COUNCIL, CouncilContacts()])
def test_sms_replies_are_gsm7_short_and_kept_whole(kind, council):
    reply = compose(kind, council, "sms", now=SATURDAY_NIGHT)
    assert reply.help.buttons == ()
    assert "call 999" in reply.help.text
    assert {message.safety for message in reply.messages} == {"crisis"}  # bot/channels/sms.py keeps it whole by this mark
    for message in reply.messages:
        assert is_gsm7(message.text), message.text
    assert segments(reply.help.text) <= MAX_SMS_SEGMENTS


def test_no_after_is_this_phone_safe_means_do_not_use_it_and_says_how_to_hide_the_chat():
    from knowledge.safety.reply import contact_declined
    web = contact_declined("domestic_abuse", "rest").text
    sms = contact_declined("domestic_abuse", "sms").text
    assert "Nobody from the team will call or text this phone" in web and "Leave this site quickly" in web
    assert "delete these texts" in sms and "Leave this site" not in sms


def test_no_thanks_to_a_worker_is_respected_and_honest_that_the_team_knows():
    from knowledge.safety.reply import contact_declined
    text = contact_declined("suicide").text
    assert "Nobody will contact you unless you ask" in text and "The team still knows" in text


# ---- the failure reply (the bot could not answer) ------------------------------------------------
def test_out_of_hours_the_failure_reply_gives_the_emergency_duty_team_not_only_the_office():
    """#16: with the bot down, the reply gave the office number even at night, and no duty team."""
    text = failure_text(COUNCIL, SATURDAY_NIGHT)
    assert text.startswith("Sorry, something went wrong")
    assert "Emergency Duty Team on 01632 960102" in text and "closed now" in text and "Monday from 9am" in text
    assert "01632 960101" not in text, "no number that nobody answers now"
    assert text.endswith("If you're in danger, call 999. Samaritans are free any time on 116 123.")


def test_in_office_hours_the_failure_reply_gives_the_team_until_it_closes():
    text = failure_text(COUNCIL, MONDAY_MORNING)
    assert "Leaving Care Team on 01632 960101 until 5pm" in text and "999" in text
    assert "Emergency Duty Team" not in text


def test_the_widget_gets_both_numbers_with_their_hours_for_any_time():
    """The widget shows these words when it cannot reach the site, maybe hours after loading them."""
    text = failure_help(COUNCIL, at_any_time=True)
    assert "01632 960101 (Mon to Thu 9am to 5pm, Fri 9am to 4:30pm)" in text
    assert "Out of hours, call the Emergency Duty Team on 01632 960102 (any time, day or night)" in text
    assert failure_help(COUNCIL, SATURDAY_NIGHT, at_any_time=True) == text, "not a function of the time"


def test_without_any_council_contact_the_failure_reply_still_gives_999_and_samaritans():
    assert failure_help(CouncilContacts(), SATURDAY_NIGHT) == default_kinds().lines["failure_danger"]
    unknown_hours = CouncilContacts(leaving_care=Contact("leaving_care_team", "Team", "01632 960103"))
    assert failure_help(unknown_hours, SATURDAY_NIGHT).startswith("You can call the Team on 01632 960103.")


@pytest.mark.parametrize("now", [SATURDAY_NIGHT, MONDAY_MORNING])
def test_the_failure_reply_fits_in_three_texts(now):
    """SMS cuts a non-crisis text to 3 segments: the 999 line at the end must survive."""
    text = failure_text(COUNCIL, now)
    assert is_gsm7(text) and segments(text) <= 3
