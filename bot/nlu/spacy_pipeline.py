"""Build Pathfinder's spaCy pipeline from code and data the project owns.

No spaCy model can be downloaded here, so the pipeline is blank English + the lookup
lemmatizer from spacy-lookups-data (with our corrections) + an entity_ruler whose council
patterns come from the offer files. It is saved to disk because Rasa's SpacyNLP only loads
pipelines from disk. Run: python -m bot.nlu.spacy_pipeline [--force]
"""
from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Dict, List

import spacy
import yaml

from bot.config import ROOT
from knowledge.content import OFFERS_DIR, load_offers

BUILD_DIR = ROOT / "build" / "spacy" / "en_pathfinder"
SPACY_DATA = ROOT / "data" / "spacy"
LEMMA_EXCEPTIONS = SPACY_DATA / "lemma_exceptions.yml"
EXTRA_PATTERNS = SPACY_DATA / "entity_patterns.yml"
STAMP = "pathfinder-build.json"
BUILD_VERSION = "1"  # bump when this file's logic changes


def lemma_exceptions() -> Dict[str, str]:
    return {str(k).lower(): str(v).lower() for k, v in (yaml.safe_load(LEMMA_EXCEPTIONS.read_text()) or {}).items()}


def council_patterns(offers_dir: Path = OFFERS_DIR) -> List[dict]:
    """One token pattern per council name or nickname, labelled `council` with the council id."""
    patterns = []
    for council in load_offers(offers_dir).councils.values():
        if council.id == "national":
            continue
        for alias in sorted({council.id, *council.aliases}):
            tokens = [{"LOWER": word} for word in alias.split()]
            patterns.append({"label": "council", "pattern": tokens, "id": council.id})
    return patterns


def entity_patterns() -> List[dict]:
    extra = (yaml.safe_load(EXTRA_PATTERNS.read_text()) or {}).get("patterns") or []
    return council_patterns() + list(extra)


def build_pipeline() -> "spacy.language.Language":
    """A blank English pipeline with the corrected lookup lemmatizer and the entity ruler."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    nlp.initialize()  # loads the lookup tables; must come before add_patterns (spaCy E1004)
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    for word, lemma in lemma_exceptions().items():
        table.set(word, lemma)
    ruler.add_patterns(entity_patterns())
    nlp.meta["name"] = "pathfinder"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "Pathfinder: blank English, lookup lemmas, care-leaver entity ruler"
    return nlp


def fingerprint() -> str:
    """Hash of everything the pipeline is built from: rebuild only when it changes."""
    digest = hashlib.sha256(BUILD_VERSION.encode())
    for path in [LEMMA_EXCEPTIONS, EXTRA_PATTERNS, *sorted(OFFERS_DIR.glob("*.yml"))]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(spacy.__version__.encode())
    return digest.hexdigest()


def ensure_built(target: Path = BUILD_DIR, force: bool = False) -> Path:
    """Build the pipeline into `target` unless an up-to-date build is already there."""
    stamp = target / STAMP
    current = fingerprint()
    if not force and stamp.exists() and json.loads(stamp.read_text()).get("fingerprint") == current:
        return target
    nlp = build_pipeline()
    target.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)
    stamp.write_text(json.dumps({"fingerprint": current}))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    args = parser.parse_args()
    print(f"spaCy pipeline ready at {ensure_built(force=args.force)}")


if __name__ == "__main__":
    main()
