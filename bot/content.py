"""Offer content tool for council staff: list, validate and reload the offer files.

    python -m bot.content validate   # check knowledge/offers/*.yml; exit 1 with each problem
    python -m bot.content reload     # validate, then publish to the running bot's database
    python -m bot.content list       # councils and entitlements per topic
    python -m bot.content todo       # what each council still has to supply or check,
                                     # and the translations awaiting a translator's review

`validate` and `todo` also read knowledge/languages/*.yml (the replies in other languages).

A reload is picked up by the running bot on its next question: no restart, no retraining.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from bot.config import check_production, load_settings
from knowledge.content import OFFERS_DIR, ContentError, OfferContent, load_offers
from knowledge.db import make_engine
from knowledge.languages.catalog import LANGUAGES_DIR, load_catalog
from knowledge.sources import source_problems, stale_entries
from knowledge.store import KnowledgeBase
from services.models import create_all


def _load(directory: Path) -> OfferContent:
    """The offer files, and the documents they quote (knowledge/sources.yml), both valid."""
    content = load_offers(directory)
    problems = source_problems(content.entitlements)
    if problems:
        raise ContentError(problems)
    return content


def _validate(directory: Path, languages: Path = LANGUAGES_DIR) -> int:
    content = _load(directory)
    print(f"OK: {len(content.councils)} files, {len(content.entitlements)} entitlements.")
    catalog = load_catalog(languages)
    waiting = catalog.awaiting_review()
    print(f"OK: {len(catalog.languages)} languages besides English, {len(waiting)} awaiting a translator's review.")
    for item in content.placeholder_contacts():
        print(f"  still to supply: {item}")
    for item in stale_entries(content.entitlements):
        print(f"  warning: {item}")
    return 0


def _reload(directory: Path, languages: Path = LANGUAGES_DIR) -> int:
    content = _load(directory)
    settings = load_settings()
    refusals = check_production(settings, content.placeholder_contacts())
    if refusals:
        print("Refusing to publish in production:\n  " + "\n  ".join(refusals), file=sys.stderr)
        return 1
    engine = make_engine(settings.database_url)
    create_all(engine)
    version = KnowledgeBase(engine).publish(content)
    print(f"Published {len(content.entitlements)} entitlements (content version {version}).")
    return 0


def _list(directory: Path, languages: Path = LANGUAGES_DIR) -> int:
    content = _load(directory)
    for council in content.councils.values():
        topics = Counter(e.topic for e in content.entitlements if e.council == council.id)
        summary = ", ".join(f"{topic} {count}" for topic, count in sorted(topics.items()))
        print(f"{council.id:15} {council.name}: {summary}")
    return 0


def _todo(directory: Path, languages: Path = LANGUAGES_DIR) -> int:
    content = _load(directory)
    items = content.placeholder_contacts() + stale_entries(content.entitlements) + load_catalog(languages).awaiting_review()
    print("\n".join(items) if items else "Nothing to supply or check.")
    return 0


COMMANDS = {"validate": _validate, "reload": _reload, "list": _list, "todo": _todo}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="List, validate and reload the offer files.")
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("--dir", type=Path, default=OFFERS_DIR, help="folder of offer files (default: knowledge/offers)")
    parser.add_argument("--languages", type=Path, default=LANGUAGES_DIR, help="folder of language files (default: knowledge/languages)")
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args.dir, args.languages)
    except ContentError as error:
        print(f"The content files have {len(error.problems)} problem(s); nothing was changed:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
