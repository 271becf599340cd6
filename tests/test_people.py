"""Passing young people on to a person, and the crisis reply, through the running bot."""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.db import make_engine
from knowledge.safety.kinds import default_kinds
from services.models import Referral
from tests.conftest import ROOT, new_sender, texts, wait_for

CRISIS_CASES = [c["text"] for c in yaml.safe_load((ROOT / "tests" / "eval" / "crisis.yml").read_text())["cases"] if c["topic"] == "crisis"]
# Opening moves that leave a form waiting for an answer when the crisis message arrives.
FORM_OPENERS = [
    ("how much is the setting up home grant", None),  # offer form asks for the council
    ("am i a care leaver", "walsall"),  # eligibility checker asks the age
    ("can i talk to my pa", "walsall"),  # hand-off form asks the name
]
# The crisis reply opens with the kind's own first line (knowledge/safety/kinds.yml), or the
# generic one (utter_crisis_help) when only the intent classifier said crisis.
CRISIS_FIRST_LINE = ("I'm really glad you told me",) + tuple(k.opening for k in default_kinds().kinds.values())


def referrals(bot, sender):
    engine = make_engine(bot.database_url)
    with Session(engine) as session:
        rows = list(session.execute(select(Referral).where(Referral.conversation_id == sender)).scalars())
    engine.dispose()
    return rows


def test_talk_to_my_pa_runs_the_form_and_leaves_a_referral_and_an_email(bot):
    sender = new_sender()
    bot.say(sender, "can I speak to my PA", council="walsall")
    assert bot.slot(sender, "requested_slot") == "handoff_name"
    bot.say(sender, "my name is Jo")
    bot.say(sender, "phone")
    reply = texts(bot.say(sender, "07700 900123"))
    assert "good time" in reply
    bot.say(sender, "weekday mornings")
    summary = texts(bot.say(sender, "I need help with my rent"))
    assert "Jo" in summary and "07700900123" in summary and "send it" in summary.lower()
    done = texts(bot.say(sender, "yes"))
    assert "01632 960201" in done  # the team's number from the content
    [referral] = referrals(bot, sender)
    assert (referral.council_id, referral.reason, referral.first_name) == ("walsall", "handoff_pa", "Jo")
    assert referral.contact_value == "07700900123" and referral.status == "new"
    assert wait_for(lambda: [m for m in bot.smtp_messages if f"referral #{referral.id} " in m["data"]])


def test_every_step_can_be_skipped_and_nothing_is_sent_without_yes(bot):
    sender = new_sender()
    bot.say(sender, "i need a real person", council="nottingham")
    replies = [texts(bot.say(sender, "skip")) for _ in range(4)]  # name, contact, time, message
    assert "Name: not given" in replies[-1] and "Shall I send it?" in replies[-1]
    reply = texts(bot.say(sender, "no"))
    assert "haven't sent anything" in reply
    assert referrals(bot, sender) == []


def test_stop_ends_the_hand_off(bot):
    sender = new_sender()
    bot.say(sender, "call me back please", council="cambridgeshire")
    reply = texts(bot.say(sender, "stop"))
    assert "haven't sent anything" in reply
    assert not (bot.tracker(sender)["active_loop"] or {}).get("name")


def test_thanks_during_the_hand_off_is_not_taken_as_a_name(bot):
    sender = new_sender()
    bot.say(sender, "can my PA ring me", council="walsall")
    reply = texts(bot.say(sender, "thanks!!"))
    assert "You're welcome" in reply and "haven't sent anything yet" in reply
    assert bot.slot(sender, "requested_slot") == "handoff_name" and bot.slot(sender, "handoff_name") is None
    assert bot.slot(sender, "topic") == "smalltalk"
    bot.say(sender, "Sam")
    assert bot.slot(sender, "handoff_name") == "Sam"


def test_a_question_during_the_hand_off_is_answered_not_used_as_a_name(bot):
    sender = new_sender()
    bot.say(sender, "i want to talk to a worker", council="walsall")
    reply = texts(bot.say(sender, "wait do care leavers have to pay council tax in walsall?"))
    assert "haven't asked a worker yet" in reply and "council tax" in reply.lower()
    assert bot.slot(sender, "handoff_name") is None and bot.slot(sender, "topic") == "money"
    assert not referrals(bot, sender)


def test_text_me_on_the_web_asks_for_the_number_so_someone_can_reach_them(bot):
    sender = new_sender()
    bot.say(sender, "can someone from the leaving care team get back to me", council="walsall")
    bot.say(sender, "Kai")
    assert "number" in texts(bot.say(sender, "text me")).lower()
    bot.say(sender, "07700 900456")
    bot.say(sender, "after 4")
    summary = texts(bot.say(sender, "my rent is going up"))
    assert "by text (07700900456)" in summary and "this number" not in summary
    done = texts(bot.say(sender, "yes"))
    [referral] = referrals(bot, sender)
    assert referral.contact_method == "sms" and referral.contact_value == "07700900456"
    assert f"reference is #{referral.id}" in done


def to_the_number(bot, sender: str, council: str = "walsall") -> None:
    """A hand-off walked to "What's the number they should use?" (a call, for Jade)."""
    bot.say(sender, "can my PA ring me", council=council)
    bot.say(sender, "Jade")
    bot.say(sender, "phone")


def to_read_back(bot, sender: str, council: str = "walsall") -> str:
    """A hand-off walked to "Shall I send it?" with a phone number; returns the read-back."""
    to_the_number(bot, sender, council)
    bot.say(sender, "07700 900124")
    bot.say(sender, "after 4")
    return texts(bot.say(sender, "help with my rent"))


def test_a_number_typed_at_the_read_back_corrects_it_and_is_not_a_yes(bot):
    """Trial: a corrected number typed at "Shall I send it?" sent the request, number unchanged."""
    sender = new_sender()
    to_read_back(bot, sender)
    summary = texts(bot.say(sender, "07700 900123"))
    assert "by phone (07700900123)" in summary and "Shall I send it?" in summary
    assert referrals(bot, sender) == []


def test_the_change_menu_buttons_work_when_their_titles_are_typed(bot):
    sender = new_sender()
    to_read_back(bot, sender)
    assert "What would you like to change?" in texts(bot.say(sender, "change something"))
    assert "good time" in texts(bot.say(sender, "The best time"))
    assert "Best time: mornings" in texts(bot.say(sender, "mornings"))


def test_a_mobile_number_a_digit_short_is_asked_again(bot):
    sender = new_sender()
    to_the_number(bot, sender)
    assert "doesn't look like a phone number" in texts(bot.say(sender, "07700 90012"))
    assert "good time" in texts(bot.say(sender, "07700 900123"))


def test_an_email_inside_a_sentence_is_taken(bot):
    sender = new_sender()
    bot.say(sender, "can someone email me", council="nottingham")
    bot.say(sender, "Liam")
    bot.say(sender, "email")
    assert "good time" in texts(bot.say(sender, "oops its liam.b@example.com"))
    bot.say(sender, "mornings")
    assert "by email (liam.b@example.com)" in texts(bot.say(sender, "help with debts"))


def test_a_change_asked_while_writing_the_message_goes_back_to_that_answer(bot):
    sender = new_sender()
    to_the_number(bot, sender)
    bot.say(sender, "07700 900124")
    bot.say(sender, "after 3pm")
    assert "good time" in texts(bot.say(sender, "actually change the time, mornings are better"))
    bot.say(sender, "mornings")
    summary = texts(bot.say(sender, "help with my rent"))
    assert "Best time: mornings" in summary and "Message: help with my rent" in summary


@pytest.mark.parametrize("text", ["no its ok ill ring them myself", "hmm actually dont send it", "stop. i just asked who to ring"])
def test_changing_ones_mind_mid_form_ends_it_with_nothing_sent(bot, text):
    """Second trial: these were read as a name, or not understood at the read-back."""
    sender = new_sender()
    bot.say(sender, "can my PA ring me", council="walsall")
    reply = texts(bot.say(sender, text))
    assert "haven't sent anything" in reply
    assert referrals(bot, sender) == [] and not (bot.tracker(sender)["active_loop"] or {}).get("name")


def test_the_change_menu_titles_are_answers_not_questions(bot):
    sender = new_sender()
    to_read_back(bot, sender)
    bot.say(sender, "change something")
    assert "How should they contact you" in texts(bot.say(sender, "How to contact me"))


def test_a_question_about_a_sent_request_is_told_it_stands(bot):
    """Trial: "when will they ring me" after sending looked like a fresh request."""
    sender = new_sender()
    to_read_back(bot, sender)
    bot.say(sender, "yes")
    [referral] = referrals(bot, sender)
    reply = texts(bot.say(sender, "when will they ring me"))
    assert f"Your request #{referral.id} has been sent" in reply and "01632 960201" in reply


def test_stop_after_a_request_was_sent_says_that_one_still_stands(bot):
    sender = new_sender()
    to_read_back(bot, sender)
    bot.say(sender, "yes")
    [referral] = referrals(bot, sender)
    bot.say(sender, "can someone call me")
    assert f"#{referral.id}, was sent" in texts(bot.say(sender, "stop"))


def test_one_answer_can_be_changed_at_the_read_back(bot):
    sender = new_sender()
    bot.say(sender, "i want to speak to my PA", council="nottingham")
    for answer in ("Ria", "here", "mornings", "college money"):
        bot.say(sender, answer)
    menu = texts(bot.say(sender, "change something"))
    assert "What would you like to change?" in menu and "The best time" in menu
    assert "good time" in texts(bot.say(sender, "change time"))
    summary = texts(bot.say(sender, "after 6pm"))
    assert "Best time: after 6pm" in summary and "Name: Ria" in summary and "college money" in summary
    bot.say(sender, "yes")
    [referral] = referrals(bot, sender)
    assert (referral.first_name, referral.contact_time) == ("Ria", "after 6pm")


def test_when_the_pa_is_the_problem_the_team_and_an_advocate_are_offered(bot):
    sender = new_sender()
    reply = texts(bot.say(sender, "my PA never answers my calls, i need someone else to help me", council="walsall"))
    assert "not only your PA" in reply and "advocate" in reply.lower()
    assert bot.slot(sender, "requested_slot") == "handoff_name"


def test_changing_your_mind_in_the_form_stops_it_and_a_later_request_starts_afresh(bot):
    sender = new_sender()
    bot.say(sender, "can my PA call me", council="walsall")
    bot.say(sender, "Lee")
    assert "haven't sent anything" in texts(bot.say(sender, "actually i dont want anyone to contact me"))
    assert bot.slot(sender, "handoff_name") is None
    reply = texts(bot.say(sender, "whats the number for the leaving care team"))
    assert "01632 960201" in reply and bot.slot(sender, "requested_slot") == "handoff_name"
    assert not referrals(bot, sender)


def test_a_question_after_sending_is_answered_not_a_new_form(bot):
    sender = new_sender()
    bot.say(sender, "can my PA call me", council="walsall")
    for answer in ("Jo", "here", "any time", "my rent", "yes"):
        bot.say(sender, answer)
    reply = texts(bot.say(sender, "how much is the setting up home grant"))
    assert "2,000" in reply and "first name" not in reply
    assert len(referrals(bot, sender)) == 1


def test_advocate_gives_details_and_can_refer(bot):
    sender = new_sender()
    reply = texts(bot.say(sender, "I want an advocate", council="walsall"))
    assert "0808 800 5792" in reply and "free" in reply and "don't work for the council" in reply
    assert bot.slot(sender, "topic") == "advocacy"
    bot.say(sender, "yes")
    assert bot.slot(sender, "requested_slot") == "handoff_name"
    for answer in ("Sam", "here", "any time", "they refused my grant", "yes"):
        bot.say(sender, answer)
    [referral] = referrals(bot, sender)
    assert referral.reason == "advocacy" and referral.contact_method == "chat"


def test_complaint_explains_how_to_complain(bot):
    sender = new_sender()
    reply = texts(bot.say(sender, "i want to make a complaint about my pa", council="nottingham"))
    assert "right to complain" in reply and "0808 800 5792" in reply


@pytest.mark.parametrize("index", range(len(CRISIS_CASES)))
def test_every_crisis_message_interrupts_a_form_with_the_crisis_reply_first(bot, index):
    text = CRISIS_CASES[index]
    opener, council = FORM_OPENERS[index % len(FORM_OPENERS)]
    sender = new_sender()
    bot.say(sender, opener, council=council)
    assert bot.tracker(sender)["active_loop"].get("name"), "the opener should leave a form running"
    messages = bot.say(sender, text, council=council)
    assert messages and messages[0]["text"].startswith(CRISIS_FIRST_LINE), f"{text!r} -> {texts(messages)[:200]}"
    tracker = bot.tracker(sender)
    assert not (tracker["active_loop"] or {}).get("name"), "the crisis reply must stop the form"
    assert tracker["slots"]["topic"] == "crisis"
    urgent = [r for r in referrals(bot, sender) if r.priority == "urgent"]
    assert urgent and urgent[0].reason == "crisis"


def test_crisis_reply_gives_council_emergency_number_and_office_status(bot):
    sender = new_sender()
    reply = texts(bot.say(sender, "i dont want to be here anymore", council="walsall"))
    # Walsall's emergency duty team (placeholder number), its hours from the content, said once
    assert "Emergency Duty Team (any time, day or night): 01632 960202" in reply
    assert "999" in reply and "116 123" in reply
    assert ("closed right now" in reply) or ("open now" in reply)


def test_saying_im_fine_after_a_crisis_reply_is_accepted_kindly(bot):
    sender = new_sender()
    bot.say(sender, "i want to end it all", council="walsall")
    reply = texts(bot.say(sender, "no im fine honestly you got it wrong"))
    assert "sorry if I got that wrong" in reply and "numbers above" in reply


def test_urgent_flag_is_emailed(bot):
    sender = new_sender()
    bot.say(sender, "hes going to hurt me tonight", council="nottingham")
    [referral] = referrals(bot, sender)
    assert referral.priority == "urgent"
    assert wait_for(lambda: [m for m in bot.smtp_messages if f"URGENT: Pathfinder referral #{referral.id} " in m["data"]])


def test_three_crisis_messages_make_one_urgent_referral_and_one_email(bot):
    sender = new_sender()
    seen = {"council": "walsall", "notice_seen": True}  # the widget showed the privacy notice
    replies = [bot.say(sender, text, metadata=seen) for text in ("i want to kill myself", "i dont want to be here anymore", "i want to end it all tonight")]
    assert replies[0][0]["text"].startswith(CRISIS_FIRST_LINE)
    for reply in replies[1:]:  # straight after the help: not the same block, the numbers one tap away
        assert reply[0]["text"].startswith("I'm still here") and any(b["payload"].startswith("tel:") for b in reply[0]["buttons"])
    [flag] = [r for r in referrals(bot, sender) if r.priority == "urgent"]
    assert flag.reason == "crisis" and len(flag.detail.splitlines()) == 3, flag.detail
    assert wait_for(lambda: [m for m in bot.smtp_messages if f"referral #{flag.id} " in m["data"]])
    time.sleep(1)  # a second e-mail, if one were wrongly owed, would be on its way by now
    assert len([m for m in bot.smtp_messages if f"referral #{flag.id} " in m["data"]]) == 1
