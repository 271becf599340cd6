"""What the bot says to someone who writes, or chooses, a language other than English.

Pure functions over the catalog (knowledge/languages/*.yml): the actions turn the messages
into Rasa's. Why these and no more: no translation model can run here, so the bot can only
say, in the young person's language, who it is, that it answers fully in English for now,
how to get urgent help (999 first, with how to get an interpreter on the phone), how to ask
for a person and an interpreter, and what happens to what they write. No Rasa here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Mapping, Optional, Sequence, Tuple

from knowledge.languages.catalog import Catalog, Language
from knowledge.languages.detect import ENGLISH, Detection, words
from knowledge.safety.kinds import Taxonomy, default_kinds
from knowledge.safety.reply import Button, ReplyMessage, service_button

PERSON_PAYLOAD = "I want to talk to a person"  # what the "Talk to a person" button says elsewhere
ENGLISH_PAYLOAD = "english please"
CRISIS_SERVICES = (("crisis_999", "emergency_999"), ("crisis_samaritans", "samaritans"), ("crisis_111", "nhs_111"))
# Words around a language's name in a request to use it ("can you speak arabic please").
CHOICE_WORDS = frozenset(
    "can could would will you u do does speak speaks talk write reply answer in into please pls plz i want wanna "
    "need my language languages use the a an to me with is there any have has someone somebody who change switch "
    "set only like prefer translate translation other another different version ok okay yes or and".split()
)
LIST_WORDS = frozenset({"language", "languages", "translate", "translation"})
MAX_CHOICE_WORDS = 8


@dataclass(frozen=True)
class Choice:
    """A request to use a language: `code` ("en" too), or None when the list was asked for."""

    code: Optional[str]


def read_choice(text: Optional[str], names: Mapping[str, str]) -> Optional[Choice]:
    """A short message that only asks for a language ("can you speak arabic", "فارسی",
    "do you speak other languages"), else None: a question that names a language ("i speak
    tigrinya, can i get an interpreter at my meeting") is a question, answered as one.
    English alone ("english") is not a choice: it is a school subject too ("english classes"
    asked without the noun), so it needs a word around it ("in english", "english please")."""
    tokens = words(text or "")
    if not tokens or len(tokens) > MAX_CHOICE_WORDS:
        return None
    joined = f" {' '.join(tokens)} "
    found = set()
    for name in sorted(names, key=len, reverse=True):
        key = f" {' '.join(words(name))} "
        if key.strip() and key in joined:
            found.add(names[name])
            joined = joined.replace(key, " ")
    rest = joined.split()
    if any(token not in CHOICE_WORDS for token in rest):
        return None
    if len(found) == 1:
        code = next(iter(found))
        return None if code == ENGLISH and not rest else Choice(code)
    if not found and LIST_WORDS & set(rest):
        return Choice(None)
    return None


def _note(catalog: Catalog, language: Language, text: str) -> str:
    """The text, after the language's "a computer translated this" while it is unreviewed."""
    return text if language.reviewed else f"{catalog.say(language.code, 'machine_note')} {text}"


def _buttons(catalog: Catalog, code: str) -> Tuple[Button, ...]:
    return (Button(catalog.say(code, "button_person"), PERSON_PAYLOAD), Button(catalog.english.native_name, ENGLISH_PAYLOAD))


def core_reply(catalog: Catalog, code: str, first: bool = True) -> List[ReplyMessage]:
    """Who the bot is (English only for now), the urgent line, and the privacy line with the
    buttons to a person and to English.

    The first time in a language it also says how to ask for a person (the hand-off form's
    questions) and for an interpreter; later messages in that language get the short
    version, not the same block. The buttons ride on the privacy line, the shortest text,
    so that over SMS it and its numbered options still fit three texts.
    """
    language = catalog.get(code)
    if language is None or code == ENGLISH:
        raise ValueError(f"no replies for language {code!r}")
    messages = [ReplyMessage(_note(catalog, language, catalog.say(code, "intro"))), ReplyMessage(catalog.say(code, "urgent"))]
    if first:
        messages += [ReplyMessage(catalog.say(code, "person")), ReplyMessage(catalog.say(code, "interpreter"))]
    messages.append(ReplyMessage(catalog.say(code, "privacy"), _buttons(catalog, code)))
    return messages


def language_buttons(catalog: Catalog, codes: Optional[Sequence[str]] = None) -> Tuple[Button, ...]:
    """One button per language, in its own name (what someone who reads no English can find)."""
    chosen = [catalog.languages[c] for c in (codes or tuple(catalog.languages)) if c in catalog.languages]
    return tuple(Button(language.native_name, language.choice_payload) for language in chosen) + (
        Button(catalog.english.native_name, ENGLISH_PAYLOAD),
    )


def unsure_reply(catalog: Catalog, candidates: Sequence[str]) -> List[ReplyMessage]:
    """For a message whose language is not clear (one word, or two languages that share a
    script): the urgent line in each language it may be, then the choice of language.
    Why all of them: someone in danger should not have to pick a button first."""
    codes = [code for code in candidates if code in catalog.languages]
    messages = [ReplyMessage(_note(catalog, catalog.languages[code], catalog.say(code, "urgent"))) for code in codes]
    question = " / ".join([catalog.say(ENGLISH, "choose")] + [catalog.say(code, "choose") for code in codes])
    messages.append(ReplyMessage(question, language_buttons(catalog, codes)))
    return messages


def list_reply(catalog: Catalog) -> List[ReplyMessage]:
    """"Do you speak other languages?": the languages, each in its own name."""
    return [ReplyMessage(catalog.say(ENGLISH, "choose"), language_buttons(catalog))]


def crisis_reply(catalog: Catalog, code: str, kinds: Optional[Taxonomy] = None) -> List[ReplyMessage]:
    """The crisis help in the language: 999 first (and how to get an interpreter on the call),
    Samaritans, NHS 111, each with its tap-to-call button (numbers from kinds.yml)."""
    kinds = kinds or default_kinds()
    language = catalog.get(code)
    if language is None or code == ENGLISH:
        raise ValueError(f"no replies for language {code!r}")
    messages = [ReplyMessage(_note(catalog, language, catalog.say(code, "crisis_opening")))]
    for key, service_id in CRISIS_SERVICES:
        button = service_button(kinds.services[service_id])
        messages.append(ReplyMessage(catalog.say(code, key), (button,) if button else ()))
    return messages


def reply_language(detection: Detection, choice: Optional[Choice], current: Optional[str]) -> Optional[str]:
    """The language the reply should be in: a choice first, then a sure detection, then the
    conversation's language when the message could be in it; None for English."""
    if choice is not None and choice.code:
        return None if choice.code == ENGLISH else choice.code
    if not detection.is_english:
        return detection.language
    if current and current in detection.candidates:
        return current
    return None
