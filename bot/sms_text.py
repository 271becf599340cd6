"""Shaping replies for SMS: GSM-7 when it can be, numbered options instead of buttons, few segments.

One character outside GSM-7 (an emoji, a curly quote) switches a whole message to UCS-2,
where a segment holds 70 characters instead of 160, so an English reply is cleaned first.
A reply written in a script GSM-7 cannot carry (Arabic, Ethiopic, Vietnamese with its tone
marks) is sent as it is, in UCS-2: cleaning would delete it or strip its meaning
(`for_sms`). Segments, and where a long text is cut, are counted for the encoding it will
be sent in.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from knowledge.safety.reply import CONCERN, CRISIS, FAILURE, SAFETY

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")  # each costs two septets
REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2026": "...", "\u00a0": " ", "\u2022": "-", "\u00b7": "-", "\t": " ",
}
SINGLE_LIMIT, PART_LIMIT = 160, 153
UCS2_SINGLE_LIMIT, UCS2_PART_LIMIT = 70, 67  # UTF-16 code units
MAX_SEGMENTS = 3
# This many letters that GSM-7 lacks means the text is written in another script, not an
# English text with a name like "Zoë" in it (which is cleaned to GSM-7 as before).
UCS2_LETTERS = 3
_MARK_RANK = {None: 0, FAILURE: 1, CONCERN: 2, CRISIS: 3}  # a text holding a crisis message is a crisis text


def to_gsm7(text: str) -> str:
    """The text with every character made GSM-7: look-alikes swapped, accents dropped, emoji removed."""
    out = []
    for char in text:
        char = REPLACEMENTS.get(char, char)
        if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in char):
            out.append(char)
            continue
        plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
        out.append(plain if plain and all(c in GSM7_BASIC for c in plain) else "")
    return re.sub(r"[ ]{2,}", " ", "".join(out)).strip()


def letters_outside_gsm7(text: str) -> int:
    """How many letters (or combining marks) of the text GSM-7 has no place for."""
    return sum(
        1 for char in text
        if unicodedata.category(char)[0] in "LM" and char not in GSM7_BASIC and char not in GSM7_EXTENDED
        and REPLACEMENTS.get(char, char) == char
    )


def needs_ucs2(text: str) -> bool:
    """True when the text is written in letters GSM-7 cannot carry, so it must go as UCS-2."""
    return letters_outside_gsm7(text) >= UCS2_LETTERS


def for_sms(text: str) -> str:
    """The text as it will be sent: unchanged (UCS-2) when written in another script, else GSM-7."""
    return text.strip() if needs_ucs2(text) else to_gsm7(text)


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def septets(text: str) -> int:
    return sum(2 if char in GSM7_EXTENDED else 1 for char in text)


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text)


def segments(text: str) -> int:
    """How many SMS segments the text needs (UCS-2 when it has any non-GSM-7 character)."""
    if is_gsm7(text):
        size, single, part = septets(text), SINGLE_LIMIT, PART_LIMIT
    else:
        size, single, part = utf16_units(text), UCS2_SINGLE_LIMIT, UCS2_PART_LIMIT
    return 1 if size <= single else math.ceil(size / part)


def short_link(url: str) -> str:
    """'https://www.walsall.gov.uk/care-leavers/' -> 'walsall.gov.uk/care-leavers'."""
    return re.sub(r"^https://(www\.)?", "", url).rstrip("/")


@dataclass
class SmsReply:
    bodies: List[str]  # one SMS each, packed so none is over MAX_SEGMENTS when the content allows
    options: Dict[str, str] = field(default_factory=dict)  # "1" -> payload
    marks: List[Optional[str]] = field(default_factory=list)  # each body's safety mark (None: an answer)

    def mark(self, index: int) -> Optional[str]:
        return self.marks[index] if index < len(self.marks) else None

    @property
    def body(self) -> str:
        return "\n".join(self.bodies)


def _stronger(first: Optional[str], second: Optional[str]) -> Optional[str]:
    return first if _MARK_RANK.get(first, 0) >= _MARK_RANK.get(second, 0) else second


def render(messages: Sequence[dict], max_segments: int = MAX_SEGMENTS) -> SmsReply:
    """A turn's bot messages as SMS: texts packed into as few texts as fit, buttons as numbered
    options; each text carries the strongest safety mark of the messages packed into it."""
    parts: List[tuple] = []
    options: Dict[str, str] = {}
    for message in messages:
        text = re.sub(r"https://\S+", lambda m: short_link(m.group(0)), message.get("text") or "")
        lines = []
        for button in message.get("buttons") or []:
            number = str(len(options) + 1)
            options[number] = button.get("payload") or button.get("title") or ""
            lines.append(f"{number} {button.get('title', '')}")
        if lines:
            text = f"{text}\nReply " + ", ".join(lines) if text else "Reply " + ", ".join(lines)
        if text:
            mark = message.get(SAFETY)
            parts.append((for_sms(text), mark if mark in _MARK_RANK else None))
    bodies: List[str] = []
    marks: List[Optional[str]] = []
    for part, mark in parts:
        joined = f"{bodies[-1]}\n{part}" if bodies else part
        if bodies and segments(joined) <= max_segments:
            bodies[-1] = joined
            marks[-1] = _stronger(marks[-1], mark)
        else:
            bodies.append(part)
            marks.append(mark)
    return SmsReply(bodies, options, marks)


def fit(body: str, max_segments: int = MAX_SEGMENTS) -> str:
    """Cut a body to `max_segments` at a line or sentence end (last resort; content should fit)."""
    if segments(body) <= max_segments:
        return body
    limit = (PART_LIMIT if is_gsm7(body) else UCS2_PART_LIMIT) * max_segments - 12
    cut = body[:limit]
    while utf16_units(cut) > limit:  # a character outside the BMP (an emoji) takes two units
        cut = cut[:-1]
    end = max(cut.rfind("\n"), cut.rfind(". "))
    return (cut[: end + 1] if end > limit // 2 else cut).rstrip() + " (more: ask)"
