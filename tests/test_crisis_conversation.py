"""The right help for the kind of danger, through the running bot (REST channel)."""
from __future__ import annotations

from tests.conftest import new_sender, texts
from tests.test_people import referrals


def say(bot, sender, text, council=None):
    """One turn from the widget, which shows the privacy notice itself (so replies start with the answer)."""
    metadata = {"notice_seen": True, **({"council": council} if council else {})}
    return bot.say(sender, text, metadata=metadata)


def first_service_line(messages):
    return messages[0]["text"].splitlines()[1]


def test_criminal_exploitation_gets_crimestoppers_not_samaritans_first(bot):
    sender = new_sender()
    messages = say(bot, sender, "the older lads keep making me take bags to other towns and i owe them", council="walsall")
    assert messages[0]["text"].startswith("Thank you for telling me. People who make you carry")
    assert first_service_line(messages).startswith("Crimestoppers: call 0800 555 111")
    assert "Samaritans" not in messages[0]["text"]
    assert {"title": "Call 999", "payload": "tel:999"} in messages[0]["buttons"]
    reply = texts(messages)
    assert "Emergency Duty Team (any time, day or night): 01632 960202" in reply
    latest = bot.tracker(sender)["latest_message"]
    assert latest["intent"]["name"] == "crisis" and latest["crisis"]["kind"] == "criminal_exploitation"
    urgent = [r for r in referrals(bot, sender) if r.priority == "urgent"]
    assert urgent and urgent[0].reason == "crisis"


def test_crisis_in_the_middle_of_a_form_gets_its_kinds_help_and_stops_the_form(bot):
    sender = new_sender()
    say(bot, sender, "how much is the setting up home grant")  # the offer form asks for the council
    assert bot.tracker(sender)["active_loop"].get("name")
    messages = say(bot, sender, "my boyfriend hit me again last night and i'm scared to go back")
    assert messages[0]["text"].startswith("I'm so sorry this is happening")
    assert "call 999" in first_service_line(messages)
    assert "0808 2000 247" in messages[0]["text"]
    assert "safe for a worker to contact you on this phone" in texts(messages)
    assert not (bot.tracker(sender)["active_loop"] or {}).get("name"), "the crisis reply must stop the form"


def test_danger_typed_over_two_messages_is_caught(bot):
    sender = new_sender()
    # alone, the first half is only a concern (answered, numbers first); with the second, a threat
    say(bot, sender, "my uncle told me on the phone that he will", council="nottingham")
    messages = say(bot, sender, "hurt my little brother")
    latest = bot.tracker(sender)["latest_message"]
    assert latest["intent"]["name"] == "crisis", texts(messages)[:300]
    assert "999" in texts(messages)


def test_a_disclosure_after_im_fine_is_not_taken_as_another_im_fine(bot):
    sender = new_sender()
    say(bot, sender, "i want to end it all", council="walsall")
    assert "sorry if I got that wrong" in texts(say(bot, sender, "no im fine honestly you got it wrong"))
    messages = say(bot, sender, "its just the man i work for keeps my passport and doesnt pay me")
    assert bot.tracker(sender)["latest_message"]["intent"]["name"] == "crisis"
    assert first_service_line(messages).startswith("Modern Slavery and Exploitation Helpline")


def test_you_got_it_wrong_is_said_back_honestly_noted_for_the_team_and_its_question_answered(bot):
    """Trials: after a false alarm, "im not in danger lol i just mean debt, who can help" got
    an apology and "what would you like to know?", not the answer; and nothing told the team."""
    sender = new_sender()
    say(bot, sender, "i want to end it all", council="walsall")
    reply = texts(say(bot, sender, "no im fine honestly you got it wrong, i just mean my debts, who can help me with them"))
    assert "added that you said it was a mistake" in reply and "StepChange" in reply
    [urgent] = [r for r in referrals(bot, sender) if r.priority == "urgent"]
    assert "they said it was a mistake" in urgent.detail and urgent.status != "closed"  # a worker still judges it


def test_no_to_a_call_about_abuse_at_home_means_not_on_this_phone_and_the_worker_is_told(bot):
    sender = new_sender()
    say(bot, sender, "my boyfriend hit me again last night and i'm scared to go back", council="walsall")
    reply = texts(say(bot, sender, "no"))
    assert "Nobody from the team will call or text this phone" in reply
    assert "Leave this site quickly" in reply
    assert "anything else" not in reply
    urgent = [r for r in referrals(bot, sender) if r.priority == "urgent"]
    assert urgent and urgent[0].contact_method.startswith("not on this phone")


def test_no_thanks_to_a_worker_after_a_crisis_is_respected_honestly(bot):
    sender = new_sender()
    say(bot, sender, "i want to end it all", council="walsall")
    reply = texts(say(bot, sender, "no"))
    assert "Nobody will contact you unless you ask" in reply and "The team still knows" in reply
    urgent = [r for r in referrals(bot, sender) if r.priority == "urgent"]
    assert urgent and urgent[0].contact_method.startswith("none")


def test_typed_not_safe_after_the_phone_question_is_heard_not_answered_with_the_same_block(bot):
    sender = new_sender()
    first = say(bot, sender, "my boyfriend hit me again last night and i'm scared to go back", council="walsall")
    reply = texts(say(bot, sender, "no its not safe he checks my phone"))
    assert "Nobody from the team will call or text this phone" in reply
    assert first[0]["text"] not in reply
    urgent = [r for r in referrals(bot, sender) if r.priority == "urgent"]
    assert urgent and urgent[0].contact_method.startswith("not on this phone")


def test_a_second_message_after_the_crisis_reply_gets_an_answer_with_the_help_one_tap_away(bot):
    sender = new_sender()
    first = say(bot, sender, "the older lads keep making me take bags to other towns and i owe them", council="walsall")
    second = say(bot, sender, "i cant ring the police, they would know it was me, they make me carry stuff for them")
    assert "I'm still here" in second[0]["text"] and first[0]["text"] not in texts(second)
    assert any(b["payload"] == "tel:0800555111" for b in second[0]["buttons"]), second[0]["buttons"]
    assert len([r for r in referrals(bot, sender) if r.priority == "urgent"]) == 1


def test_new_danger_after_a_different_crisis_gets_its_own_full_help(bot):
    sender = new_sender()
    say(bot, sender, "i want to end it all", council="walsall")
    reply = say(bot, sender, "theres a man outside my door with a knife right now")
    assert "call 999 now" in texts(reply) and "I'm still here" not in texts(reply)


def test_where_they_are_after_the_crisis_reply_is_heard_as_part_of_it_not_as_an_offer_question(bot):
    sender = new_sender()
    say(bot, sender, "my boyfriend just kicked me out and ive got nowhere to sleep tonight", council="walsall")
    reply = say(bot, sender, "im at the bus station")
    latest = bot.tracker(sender)["latest_message"]
    assert latest["intent"]["name"] == "crisis" and latest["crisis"]["kind"] == "homeless_tonight", texts(reply)[:200]
    assert "I'm still here" in reply[0]["text"]
    assert len([r for r in referrals(bot, sender) if r.priority == "urgent"]) == 1
    # only one message is carried over: the next is read afresh
    say(bot, sender, "thanks")
    assert bot.tracker(sender)["latest_message"]["intent"]["name"] != "crisis"


def test_playing_it_down_after_the_crisis_reply_is_not_taken_as_a_mistake(bot):
    sender = new_sender()
    say(bot, sender, "the older lads keep making me carry stuff for them and say i owe them", council="walsall")
    reply = texts(say(bot, sender, "its fine i can handle it"))
    assert "You're not making a fuss" in reply and "sorry if I got that wrong" not in reply, reply[:200]
    urgent = [r for r in referrals(bot, sender) if r.priority == "urgent"]
    assert urgent and "played it down" in (urgent[0].detail or "")
