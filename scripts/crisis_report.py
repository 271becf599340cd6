"""How well the crisis detection does: cross-validated on its examples, and on the eval sets.

    PYTHONPATH=. .venv/bin/python scripts/crisis_report.py [--folds 5] [--target 0.99]

Prints, for the classifier fitted from data/safety/examples.yml (knowledge/safety/classifier.py):
  * held-out (k-fold) recall on the crisis examples and false-alarm rate on the not-crisis
    examples at a range of thresholds, for the classifier alone and for the union with the
    rule layer (crisis_patterns.yml, which is not trained, so its part is not held out: the
    team wrote the patterns while looking at these examples, so the union figures flatter it);
  * the highest threshold reaching the recall target, and the shipped THRESHOLD;
  * on tests/eval/dev.yml, holdout.yml and crisis.yml: the share of non-crisis cases flagged
    by the rules, the classifier and the union at the shipped threshold, and crisis recall.
    Only totals are printed: the eval messages are for measuring, never for tuning.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from knowledge.safety.classifier import (  # noqa: E402
    NONE,
    flagged,
    THRESHOLD,
    CrisisClassifier,
    cross_validate,
    load_examples,
    ordinary_messages,
    recall_at,
    threshold_for_recall,
)
from knowledge.safety.crisis import default_matcher  # noqa: E402

EVAL_SETS = ("dev.yml", "holdout.yml", "crisis.yml")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--target", type=float, default=0.99)
    args = parser.parse_args(argv)

    examples = load_examples()
    matcher = default_matcher()
    print(f"examples: {len(examples.texts)} ({len(examples.texts) - examples.count(NONE)} crisis, "
          f"{examples.count(NONE)} not crisis)")
    started = time.perf_counter()
    ordinary = ordinary_messages()
    classifier = CrisisClassifier().fit(list(examples.texts) + ordinary, list(examples.labels) + [NONE] * len(ordinary))
    print(f"plus {len(ordinary)} offer questions and NLU examples as ordinary messages; "
          f"read and fit: {time.perf_counter() - started:.2f} s")

    held = cross_validate(examples, k=args.folds, ordinary=ordinary)
    rule = {text: matcher.match(text) is not None for text in examples.texts}
    crisis = [h for h in held if h.label != NONE]
    calm = [h for h in held if h.label == NONE]
    kind_right = sum(h.kind == h.label for h in crisis) / len(crisis)
    print(f"\n{args.folds}-fold cross-validation (held-out scores); kind right on crisis examples: {kind_right:.3f}")
    print("threshold  clf recall  clf false alarms  union recall  union false alarms")
    for threshold in sorted({0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, THRESHOLD}):
        recall, false_alarms = recall_at(held, threshold)
        union_recall = sum(flagged(h, threshold) or rule[h.text] for h in crisis) / len(crisis)
        union_fa = sum(flagged(h, threshold) or rule[h.text] for h in calm) / len(calm)
        mark = "  <- shipped" if threshold == THRESHOLD else ""
        print(f"{threshold:9.2f}  {recall:10.3f}  {false_alarms:16.3f}  {union_recall:12.3f}  {union_fa:18.3f}{mark}")
    best = threshold_for_recall(held, args.target)
    print(f"highest threshold with held-out classifier recall >= {args.target}: {best:.2f} "
          f"(false alarms {recall_at(held, best)[1]:.3f})")
    for threshold in [t / 100 for t in range(99, 0, -1)]:
        if sum(flagged(h, threshold) or rule[h.text] for h in crisis) / len(crisis) >= args.target:
            print(f"highest threshold with held-out union recall >= {args.target}: {threshold:.2f}")
            break

    print(f"\neval sets at the shipped threshold {THRESHOLD} (totals only)")
    for name in EVAL_SETS:
        cases = yaml.safe_load((ROOT / "tests" / "eval" / name).read_text(encoding="utf-8"))["cases"]
        calm_texts = [c["text"] for c in cases if c["topic"] != "crisis"]
        crisis_texts = [c["text"] for c in cases if c["topic"] == "crisis"]
        rule_fa = sum(matcher.match(t) is not None for t in calm_texts)
        clf_fa = sum(classifier.predict(t) is not None for t in calm_texts)
        union_fa = sum(matcher.match(t) is not None or classifier.predict(t) is not None for t in calm_texts)
        union_recall = sum(matcher.match(t) is not None or classifier.predict(t) is not None for t in crisis_texts)
        n = len(calm_texts) or 1
        print(f"  {name:12} non-crisis {len(calm_texts):3}: false alarms rules {rule_fa / n:.3f}, "
              f"classifier {clf_fa / n:.3f}, union {union_fa / n:.3f} | crisis {len(crisis_texts):3}: "
              f"union recall {union_recall / max(len(crisis_texts), 1):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
