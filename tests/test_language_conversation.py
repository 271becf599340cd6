"""Messages in other languages through the running bot (REST channel), issue #18."""
from __future__ import annotations

import pytest

from knowledge.languages.catalog import default_catalog
from knowledge.languages.detect import SUPPORTED
from tests.conftest import new_sender, texts
from tests.test_languages import SENTENCES
from tests.test_people import referrals


def say(bot, sender, text, council="walsall"):
    return bot.say(sender, text, metadata={"notice_seen": True, "council": council})


@pytest.mark.parametrize("code", SUPPORTED)
def test_a_greeting_and_a_question_get_the_core_reply_in_their_language(bot, code):
    catalog, sender = default_catalog(), new_sender()
    greeting, question = SENTENCES[code][0], SENTENCES[code][1]
    first = say(bot, sender, greeting)
    assert first[0]["text"] == f"{catalog.say(code, 'machine_note')} {catalog.say(code, 'intro')}"
    assert first[1]["text"] == catalog.say(code, "urgent") and "999" in first[1]["text"]
    reply = texts(first)
    for key in ("person", "interpreter", "privacy", "button_person"):
        assert catalog.say(code, key) in reply, key
    assert bot.slot(sender, "language") == code
    again = texts(say(bot, sender, question))
    assert catalog.say(code, "intro") in again and catalog.say(code, "urgent") in again
    assert catalog.say(code, "interpreter") not in again  # the short version the second time
    assert "Sorry, I didn't understand" not in reply + again


def test_choosing_a_language_by_saying_so_or_by_button(bot):
    catalog, sender = default_catalog(), new_sender()
    listed = say(bot, sender, "do you speak other languages")
    buttons = {b["title"]: b["payload"] for b in listed[-1]["buttons"]}
    assert set(buttons) == {language.native_name for language in catalog.languages.values()} | {"English"}
    chosen = say(bot, sender, buttons["پښتو"])
    assert catalog.say("ps", "intro") in texts(chosen) and bot.slot(sender, "language") == "ps"
    assert catalog.say("ar", "intro") in texts(say(bot, sender, "can you speak arabic"))
    assert bot.slot(sender, "language") == "ar"
    assert catalog.say("fa", "intro") in texts(say(bot, sender, "فارسی"))
    back = say(bot, sender, "english please")
    assert back[0]["text"].startswith("OK, I'll write in English") and bot.slot(sender, "language") == "en"


def test_one_arabic_script_word_offers_the_languages_with_the_urgent_line_in_each(bot):
    catalog, sender = default_catalog(), new_sender()
    reply = say(bot, sender, "سلام")
    for code in ("ar", "fa", "ps", "ckb"):
        assert catalog.say(code, "urgent") in texts(reply), code
    assert {"پښتو", "العربية", "English"} <= {b["title"] for b in reply[-1]["buttons"]}
    assert bot.slot(sender, "language") is None  # never guessed from one word


def test_english_questions_are_answered_as_before_after_choosing_a_language(bot):
    sender = new_sender()
    say(bot, sender, "can you speak tigrinya")
    reply = texts(say(bot, sender, "how much is the setting up home grant"))
    assert "A grant to set up your first home" in reply
    assert default_catalog().say("ti", "intro") not in reply


def test_a_crisis_message_from_someone_who_chose_arabic_gets_the_help_in_arabic_too(bot):
    catalog, sender = default_catalog(), new_sender()
    say(bot, sender, "العربية")
    messages = say(bot, sender, "i want to kill myself")
    reply = texts(messages)
    assert catalog.say("ar", "crisis_999") in reply and catalog.say("ar", "crisis_samaritans") in reply
    assert reply.index("Samaritans") < reply.index(catalog.say("ar", "crisis_999"))  # the English help first, then Arabic
    assert [r for r in referrals(bot, sender) if r.priority == "urgent"]


def test_english_conversations_get_no_language_reply(bot):
    sender = new_sender()
    reply = texts(say(bot, sender, "hiya"))
    assert bot.slot(sender, "language") is None
    assert all(default_catalog().say(code, "urgent") not in reply for code in SUPPORTED)
    assert "language" not in bot.tracker(sender)["latest_message"]
