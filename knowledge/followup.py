"""Reading a follow-up ("how do I get it?", "and if I'm 22?", "what about Walsall?").

A follow-up names no topic of its own: it asks something more of the answer just given.
This says what it asks for; the conversation layer applies it to the last question and
the entries shown. And it tells a council the user *claims* ("I'm from Walsall", "walsall
care leaver here") from one they only mention ("what about Walsall?", "my mate in Walsall
got 2 grand"): only a claim changes whose offer is used.

Plain Python; no Rasa.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

_HOW = re.compile(
    r"\bhow (?:do|can|would|should|does|to) (?:i|u|you|we|one)?\s*(?:get|apply|claim|ask|sign|access|go about|start)"
    r"|\bhow to (?:get|apply|claim)|\bapply\b|\bwho (?:do|should|can) i (?:ask|contact|speak|talk|call|email)"
    r"|\bwhere do i (?:go|apply|ask|sign)|\bwhat do i (?:need|have to do|bring)|\bis there a form|\bsign up"
    r"|\bhow long does it take|\bwho do i\b|\bdo i (?:need|have) to (?:bring|take|show|fill|sign)"
)
# "what age is it for", "am i too old for it": who can get it (its ages), not how.
_WHO = re.compile(r"\bwhat age\b|\bhow old (?:do|must|should|have)\b|\bage (?:limit|range)\b|\b(?:up to|until|till) what age\b"
                  r"|\bwho (?:can get|is it for|gets it|is that for)\b|\btoo old\b|\btoo young\b")
_AMOUNT = re.compile(r"\bhow much\b|\bwhat amount\b|\bhow many\b|\bhow often\b|£")
_SOURCE = re.compile(r"\bwhere(?:'s| is| does)? (?:this|that|it) (?:from|come from)|\bsource\b|\bwho says\b|\bis (?:that|this|it) (?:true|right|still)")
_MORE = re.compile(r"\bmore\b|\banything else\b|\bwhat else\b|\bother (?:stuff|things|help)\b")
_AGE = re.compile(r"\b(?:if|when|once|at|im|i'm|i am|turn|turning|aged?)\s*(?:i'?m\s*|i am\s*)?(1[6-9]|2[0-5])\b|\b(1[6-9]|2[0-5])\s*(?:yrs?|years?|y/?o)\b")

# "i was in care in walsall but live in leeds now, does walsall still have to help me" (a
# council said inside a question), "im fine lol i just mean debt, who can help with debts"
# (a question after "you got it wrong"): the question is the message.
_ASKS = re.compile(r"\?|\b(?:can|do|does|did|will|would|is|are|should|could|what|how|who|where|when|why|which|any)\b", re.I)
QUESTION_LENGTH = 7  # words: "im from walsall" or "im 19 and from walsall" say only who they are


def carries_a_question(text: str) -> bool:
    """Whether a message read as something else (its council, "you got it wrong") also asks something."""
    return len(text.split()) >= QUESTION_LENGTH and bool(_ASKS.search(text))


# A council named after these words is one the user asks about, not their own.
_NOT_MINE = re.compile(
    r"\b(?:what about|how about|wot about|wat about|and in|and for|and at|same in|same for|same as|than in|than|"
    r"compared to|vs|versus|instead of|or in|in other|mate|mates|friend|friends|m8|sister|brother|cousin|bf|gf|"
    r"boyfriend|girlfriend|someone|somebody|people|ppl|they|their|lads|girl|guy|moved (?:away )?from|used to live in|"
    r"not|isn'?t|wasn'?t)\b"
    r"[\w' ]{0,24}$"
)
# Words before a council that make it the user's own.
_MINE_BEFORE = re.compile(
    r"\b(?:i'?m|im|i am|i was|was|i've been|ive been|been|"
    r"my council(?: is)?|looked after by|in care (?:in|with|at)|care leaver (?:from|in|with|of)|placed by|under|"
    r"i'?m with|from|i meant|i mean|meant|actually|it'?s|its)\b[\w' ]{0,16}$"
)
_MINE_AFTER = re.compile(r"^\W*(?:council|cc|city council|county council)?\W*(?:care leaver|here|looked after|was my|were my|is my|kids?|lad|girl|-|:)")


@dataclass(frozen=True)
class FollowUp:
    """What a follow-up asks of the last answer."""

    wants: str  # "how" (how to get it), "amount", "who" (its ages), "source", "more" or "again" (re-read the question)
    age: Optional[int] = None


def read_follow_up(text: str) -> FollowUp:
    """The kind of follow-up, and an age when it asks "what if I'm 22?"."""
    lowered = text.lower()
    age_match = _AGE.search(lowered)
    age = int(age_match.group(1) or age_match.group(2)) if age_match else None
    for wants, pattern in (("amount", _AMOUNT), ("who", _WHO), ("how", _HOW), ("source", _SOURCE), ("more", _MORE)):
        if pattern.search(lowered):
            return FollowUp(wants, age)
    return FollowUp("again", age)


def claims_council(text: str, start: int, end: int, has_council: bool) -> bool:
    """Whether the council named at text[start:end] is the user's own.

    Said with "I'm from", "in care in", first in the message ("walsall - ..."), or alone:
    a claim. After "what about", "my mate in", "than": a mention. Otherwise, "I live in
    Walsall" included, it counts only when the conversation has no council yet (then using
    it beats asking for it): where someone lives now need not be the council that looked
    after them, which still owes the support, so it never switches a known council.
    """
    before, after = text[:start].lower(), text[end:].lower()
    if _NOT_MINE.search(before):
        return False
    if _MINE_BEFORE.search(before) or _MINE_AFTER.match(after):
        return True
    if not before.strip(" \t-:,.!?") or len(re.findall(r"\w+", before + " " + after)) <= 3:
        return True
    return not has_council


# "I live in Leeds now", "moved to brum for work": where they live is not (or no longer) the
# council that looked after them, which still owes the leaving care support.
_LIVES_ELSEWHERE = re.compile(
    r"\b(?:i|we)(?:'?ve|\s+have)?\s+(?:just\s+|recently\s+)?moved\s+(?:to|away|out of|down to|up to)\b"
    r"|\bi\s*(?:'m|am)?\s*(?:now\s+)?(?:live|living)\s+in\s+[a-z][\w ]{1,30}?\s+now\b"
    r"|\bi\s+(?:now\s+)?live\s+in\s+(?:a\s+)?(?:different|another|new)\s+(?:area|council|city|town|place)\b"
    r"|\b(?:moved|living|live)\s+(?:in\s+)?(?:a\s+)?(?:different|another|new)\s+(?:area|council|city|town)\b",
    re.I,
)


def lives_elsewhere(text: Optional[str]) -> bool:
    """Whether the message says they now live somewhere else (not which council that is)."""
    return bool(_LIVES_ELSEWHERE.search(text or ""))
