"""Reports for participation workers and the corporate parenting board.

The same functions feed the dashboard pages, their CSV downloads and the command line:

    python -m bot.dashboard.reports --council walsall --since 2026-10-01 --format markdown
    python -m bot.dashboard.reports --report unanswered --format csv --out gaps.csv

Everything shown is redacted. Unanswered questions are grouped into themes by similar
wording: each question becomes a TF-IDF vector of its words (common English words
dropped, plural "s" folded), and a question joins the first theme whose centre is at
least THEME_SIMILARITY similar (cosine), else starts a new theme. This is simple,
deterministic and explainable ("these questions share the words rent, deposit"), which
matters more for a board paper than the last bit of clustering quality.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import functools
import io
import re
import statistics
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.channels.safety import clean_text
from bot.dashboard.conversations import (
    FALLBACK_INTENTS,
    RATING_INTENTS,
    Conversation,
    Filters,
    Turn,
    list_conversations,
    transcripts,
)
from services.models import Referral, UnansweredQuestion
from services.redact import redact_text

THEME_SIMILARITY = 0.2  # short questions: one shared uncommon word is usually the theme
REPORTS = ("topics", "unanswered", "containment", "handoffs", "satisfaction")


@dataclass
class Table:
    """A report as a titled table: rendered as HTML, CSV or Markdown alike."""

    title: str
    columns: List[str]
    rows: List[list]


@dataclass(frozen=True)
class Scope:
    """Whose data and which dates a report covers."""

    council: Optional[str] = None  # None: every council (admins and the CLI)
    since: Optional[dt.date] = None
    until: Optional[dt.date] = None

    def filters(self) -> Filters:
        return Filters(since=self.since, until=self.until, council=self.council)

    def includes(self, moment: Optional[dt.datetime], council: Optional[str]) -> bool:
        day = moment.date() if moment else None
        return ((self.council is None or council == self.council)
                and (self.since is None or (day is not None and day >= self.since))
                and (self.until is None or (day is not None and day <= self.until)))


def week_of(moment: dt.datetime) -> str:
    """The Monday of the moment's week, e.g. 2026-11-23."""
    return (moment.date() - dt.timedelta(days=moment.weekday())).isoformat()


def topic_counts(conversations: Sequence[Conversation], turns: Dict[str, List[Turn]]) -> Dict[str, Counter]:
    """Questions asked per week and topic.

    A question is a user turn the bot routed to a topic (the `topic` slot set after it);
    answers inside a form (a name, a phone number) and "Did that help?" taps are not.
    """
    weeks: Dict[str, Counter] = defaultdict(Counter)
    for conversation in conversations:
        for turn in turns[conversation.conversation_id]:
            if turn.speaker == "user" and turn.at and turn.topic and turn.intent not in RATING_INTENTS:
                weeks[week_of(turn.at)][turn.topic] += 1
    return dict(sorted(weeks.items()))


def topics_table(weekly: Dict[str, Counter]) -> Table:
    topics = sorted({topic for counts in weekly.values() for topic in counts})
    rows = [[week] + [counts.get(topic, 0) for topic in topics] for week, counts in weekly.items()]
    return Table("Questions by topic, week by week (week starting Monday)", ["week"] + topics, rows)


def unanswered_questions(engine: Engine, scope: Scope, conversations: Sequence[Conversation],
                         turns: Dict[str, List[Turn]]) -> List[Tuple[str, str]]:
    """(display id, redacted text) of every fallback turn and every 'the offer has nothing on this' row."""
    found: Dict[Tuple[str, str], None] = {}
    by_id = {c.conversation_id: c for c in conversations}
    for conversation in conversations:
        for turn in turns[conversation.conversation_id]:
            if turn.speaker == "user" and turn.intent in FALLBACK_INTENTS and turn.text:
                found[(conversation.display_id, turn.text)] = None
    with Session(engine) as session:
        for row in session.execute(select(UnansweredQuestion)).scalars():
            conversation = by_id.get(row.conversation_id)
            if conversation is None and scope.council is not None:
                continue  # not a conversation this person may see
            if not scope.includes(row.created_at, row.council_id if conversation is None else conversation.council):
                continue
            label = conversation.display_id if conversation else "(deleted)"
            found[(label, conversation.redact(row.text) if conversation else redact_text(row.text))] = None
    return list(found)


def _words(text: str) -> str:
    """Lower-case words with a plural 's' folded ("grants" and "grant" group together)."""
    words = re.findall(r"[a-z][a-z']+", text.lower())
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words)


def group_into_themes(texts: Sequence[str]) -> List[Tuple[str, List[int]]]:
    """Themes of similar wording: (label of its top words, indexes of its questions), biggest first."""
    if not texts:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    prepared = [_words(text) for text in texts]
    try:
        vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
        matrix = vectorizer.fit_transform(prepared)
    except ValueError:  # nothing but stop words
        return [("other", list(range(len(texts))))]
    vocabulary = vectorizer.get_feature_names_out()
    themes: List[List[int]] = []
    centres: List = []
    for index in range(len(texts)):
        vector = matrix[index]
        if vector.nnz == 0:
            themes.append([index])
            centres.append(vector)
            continue
        scores = [cosine_similarity(vector, centre)[0, 0] for centre in centres]
        best = max(range(len(scores)), key=scores.__getitem__, default=None)
        if best is not None and scores[best] >= THEME_SIMILARITY:
            themes[best].append(index)
            centres[best] = matrix[themes[best]].mean(axis=0)
            centres[best] = _sparse(centres[best])
        else:
            themes.append([index])
            centres.append(vector)
    labelled = []
    for members, centre in zip(themes, centres):
        weights = centre.toarray()[0]
        top = [vocabulary[i] for i in weights.argsort()[::-1][:3] if weights[i] > 0]
        labelled.append((", ".join(top) or "other", members))
    return sorted(labelled, key=lambda theme: (-len(theme[1]), theme[0]))


def _sparse(dense):
    from scipy.sparse import csr_matrix

    return csr_matrix(dense)


def unanswered_table(questions: List[Tuple[str, str]]) -> Table:
    themes = group_into_themes([text for _, text in questions])
    rows = []
    for label, members in themes:
        for index in members:
            display, text = questions[index]
            rows.append([label, len(members), display, text])
    return Table("Unanswered questions grouped into themes (the offer's gaps)",
                 ["theme", "questions in theme", "conversation", "question (redacted)"], rows)


def containment_table(conversations: Sequence[Conversation]) -> Table:
    total = len(conversations)
    handed_off = sum(c.handoff for c in conversations)
    contained = total - handed_off
    share = f"{contained / total:.0%}" if total else "n/a"
    return Table("Containment: conversations answered without passing on to a person",
                 ["conversations", "answered by the bot alone", "passed on to a person", "containment"],
                 [[total, contained, handed_off, share]])


def referrals_in_scope(engine: Engine, scope: Scope) -> List[Referral]:
    query = select(Referral).order_by(Referral.created_at.desc())
    if scope.council is not None:  # narrowed in SQL; the dates are checked below
        query = query.where(Referral.council_id == scope.council)
    with Session(engine) as session:
        rows = session.execute(query).scalars().all()
        session.expunge_all()
    return [row for row in rows if scope.includes(row.created_at, row.council_id)]


def handoffs_table(referrals: Sequence[Referral]) -> Table:
    """Hand-offs and how long the team took to acknowledge them (median, in hours)."""
    rows = []
    for priority in ("urgent", "normal"):
        chosen = [r for r in referrals if r.priority == priority]
        waits = [(r.acknowledged_at - r.created_at).total_seconds() / 3600 for r in chosen if r.acknowledged_at]
        median = f"{statistics.median(waits):.1f}" if waits else "n/a"
        rows.append([priority, len(chosen), len(waits), sum(r.status == "new" for r in chosen), median])
    return Table("Hand-offs to a person and time to acknowledgement",
                 ["priority", "referrals", "acknowledged", "still new", "median hours to acknowledge"], rows)


def satisfaction_table(conversations: Sequence[Conversation]) -> Table:
    """'Did that help?' taps per topic."""
    counts: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    for conversation in conversations:
        for topic, helpful in conversation.ratings:
            counts[topic or "unknown"][0 if helpful else 1] += 1
    rows = [[topic, yes, no, f"{yes / (yes + no):.0%}"] for topic, (yes, no) in sorted(counts.items())]
    return Table("Satisfaction: answers rated helpful after 'Did that help?'",
                 ["topic", "helpful", "not helpful", "share helpful"], rows)


def build(engine: Engine, key: bytes, scope: Scope, names: Iterable[str] = REPORTS) -> Dict[str, Table]:
    """The named reports for one scope (conversations and transcripts are read only if one needs them)."""

    @functools.cache
    def conversations() -> List[Conversation]:
        return list_conversations(engine, key, scope.council, scope.filters())

    @functools.cache
    def turns() -> Dict[str, List[Turn]]:
        return transcripts(engine, conversations())

    builders = {
        "topics": lambda: topics_table(topic_counts(conversations(), turns())),
        "unanswered": lambda: unanswered_table(unanswered_questions(engine, scope, conversations(), turns())),
        "containment": lambda: containment_table(conversations()),
        "handoffs": lambda: handoffs_table(referrals_in_scope(engine, scope)),
        "satisfaction": lambda: satisfaction_table(conversations()),
    }
    unknown = [name for name in names if name not in builders]
    if unknown:
        raise ValueError(f"unknown report {', '.join(unknown)}; choose from {', '.join(REPORTS)}")
    return {name: builders[name]() for name in names}


def to_csv(tables: Iterable[Table]) -> str:
    """One CSV: each table's title row, header and rows, a blank line between tables."""
    out = io.StringIO()
    writer = csv.writer(out)
    for number, table in enumerate(tables):
        if number:
            writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.columns)
        writer.writerows([[_csv_safe(value) for value in row] for row in table.rows])
    return out.getvalue()


# A cell starting with one of these runs as a formula in a spreadsheet. Their look-alikes
# (fullwidth ＝＋－＠, small ﹦﹢﹣﹫, superscript ⁼⁺⁻) are read as the plain ones by some
# spreadsheets too: a cell's first character is compared in its NFKC form, which folds them all.
_FORMULA_STARTS = ("=", "+", "-", "@")
_CONTROL_STARTS = ("\t", "\r")


def _runs_as_formula(value: str) -> bool:
    head = value.lstrip(" ")[:1]
    return bool(head) and (head in _CONTROL_STARTS or unicodedata.normalize("NFKC", head)[:1] in _FORMULA_STARTS)


def _csv_safe(value):
    """Any text as a CSV cell: NUL, lone surrogates and control characters dropped (a NUL in
    one chat message made every report of the council fail), and a young person's text never
    run as a formula (CSV injection)."""
    if not isinstance(value, str):
        return value
    value = clean_text(value)
    return "'" + value if _runs_as_formula(value) else value


def to_markdown(tables: Iterable[Table]) -> str:
    parts = []
    for table in tables:
        lines = [f"## {table.title}", "", "| " + " | ".join(table.columns) + " |",
                 "|" + "---|" * len(table.columns)]
        lines += ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |" for row in table.rows]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def topics_chart_png(weekly: Dict[str, Counter]) -> bytes:
    """A server-side bar chart of questions by topic per week (the page also shows the numbers)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    table = topics_table(weekly)
    figure, axes = pyplot.subplots(figsize=(9, 4.5), dpi=100)
    try:
        bottoms = [0] * len(table.rows)
        weeks = [row[0] for row in table.rows]
        colours = pyplot.get_cmap("tab20").colors
        for column, topic in enumerate(table.columns[1:], start=1):
            values = [row[column] for row in table.rows]
            axes.bar(weeks, values, bottom=bottoms, label=topic, color=colours[(column - 1) % len(colours)])
            bottoms = [b + v for b, v in zip(bottoms, values)]
        axes.set_ylabel("questions")
        axes.set_xlabel("week starting")
        axes.set_title("Questions by topic")
        if table.rows:
            axes.legend(fontsize="small", ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        else:
            axes.text(0.5, 0.5, "No questions in this period", ha="center", va="center", transform=axes.transAxes)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()
    finally:
        pyplot.close(figure)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-25") from None


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.dashboard.reports", description="Print the dashboard's reports (redacted).")
    parser.add_argument("--council", help="one council id (default: every council)")
    parser.add_argument("--since", type=_date, help="first day, e.g. 2026-11-01 (UTC)")
    parser.add_argument("--until", type=_date, help="last day (UTC)")
    parser.add_argument("--report", action="append", choices=REPORTS, help="one report (repeatable; default: all)")
    parser.add_argument("--format", choices=("markdown", "csv"), default="markdown")
    parser.add_argument("--out", help="write to this file instead of standard output")
    args = parser.parse_args(argv)

    from bot.dashboard.conversations import open_store
    from bot.dashboard.settings import display_key, load_dashboard_settings

    engine = open_store(load_dashboard_settings().database_url)
    tables = build(engine, display_key(), Scope(args.council, args.since, args.until), args.report or REPORTS)
    text = (to_csv if args.format == "csv" else to_markdown)(tables.values())
    if args.out:
        with open(args.out, "w", encoding="utf8", newline="") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
