"""Young people's rights: subject access (everything held about one conversation) and erasure.

A conversation id is the only link between the tables: Rasa's events (sender_id), the
referrals, the unanswered questions, the SMS bookkeeping (sender) and staff tags and
notes. The audit log is kept: it names conversations only by display id, which cannot be
turned back into a conversation once the conversation is gone.

    python -m bot.dashboard.subject export CONVERSATION_ID > subject-access.json
    python -m bot.dashboard.subject erase CONVERSATION_ID --staff admin@council.gov.uk
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Dict, List, Optional, Sequence

from sqlalchemy import delete, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.dashboard.conversations import EVENTS
from services.models import Referral, SmsInbound, SmsOutbound, SmsState, UnansweredQuestion
from services.staff import ConversationNote, ConversationTag

# (label, model, the column holding the conversation id)
HELD: List[tuple] = [
    ("referrals", Referral, Referral.conversation_id),
    ("unanswered_questions", UnansweredQuestion, UnansweredQuestion.conversation_id),
    ("sms_inbound", SmsInbound, SmsInbound.sender),
    ("sms_outbound", SmsOutbound, SmsOutbound.sender),
    ("sms_state", SmsState, SmsState.sender),
    ("tags", ConversationTag, ConversationTag.conversation_id),
    ("notes", ConversationNote, ConversationNote.conversation_id),
]


def _row(model_row) -> dict:
    return {column.key: getattr(model_row, column.key) for column in inspect(model_row).mapper.column_attrs}


def export(engine: Engine, conversation_id: str) -> dict:
    """Everything held about one conversation, unredacted (it is the young person's own data)."""
    with Session(engine) as session:
        events = [
            {"id": row.id, "type": row.type_name, "timestamp": row.timestamp, "data": json.loads(row.data or "{}")}
            for row in session.execute(select(EVENTS).where(EVENTS.c.sender_id == conversation_id).order_by(EVENTS.c.id))
        ]
        held = {
            label: [_row(row) for row in session.execute(select(model).where(column == conversation_id)).scalars()]
            for label, model, column in HELD
        }
    return {"conversation_id": conversation_id, "events": events, **held}


def delete_conversations(session: Session, conversation_ids: Sequence[str], include_referrals: bool = True,
                         keep_opt_outs: bool = False) -> Dict[str, int]:
    """Delete these conversations from every table; returns rows deleted per table.

    Retention keeps referrals (they have their own period) and SMS opt-outs (a STOP must
    outlive the conversation); erasure on request removes everything.
    """
    ids = list(conversation_ids)
    counts = {"events": session.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(ids))).rowcount}
    for label, model, column in HELD:
        if label == "referrals" and not include_referrals:
            continue
        statement = delete(model).where(column.in_(ids))
        if label == "sms_state" and keep_opt_outs:
            statement = statement.where(SmsState.opted_out_at.is_(None))
        counts[label] = session.execute(statement, execution_options={"synchronize_session": False}).rowcount
    return counts


def erase(engine: Engine, conversation_id: str) -> Dict[str, int]:
    """Erase one conversation everywhere it is stored (one transaction: all or nothing)."""
    with Session(engine) as session, session.begin():
        return delete_conversations(session, [conversation_id])


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.dashboard.subject",
                                     description="Subject access and erasure for one conversation (audited).")
    parser.add_argument("command", choices=("export", "erase"))
    parser.add_argument("conversation_id", help="the conversation id (as in referral e-mails) or display id (YP-...)")
    parser.add_argument("--staff", required=True, help="your e-mail, for the audit log")
    args = parser.parse_args(argv)

    from bot.dashboard.auth import audit
    from bot.dashboard.conversations import open_store, sender_for_display_id
    from bot.dashboard.settings import display_key, load_dashboard_settings
    from services.privacy import DISPLAY_PREFIX, display_id

    engine = open_store(load_dashboard_settings().database_url)
    key = display_key()
    conversation_id = args.conversation_id
    if conversation_id.startswith(DISPLAY_PREFIX):
        found = sender_for_display_id(engine, key, conversation_id)  # hashes the ids, loads no events
        if found is None:
            print(f"No conversation has the display id {conversation_id}.", file=sys.stderr)
            return 1
        conversation_id = found
    shown = display_id(conversation_id, key)
    if args.command == "export":
        audit(engine, args.staff, "subject_access_export", shown, "command line")
        json.dump(export(engine, conversation_id), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        counts = erase(engine, conversation_id)
        audit(engine, args.staff, "subject_erasure", shown, json.dumps(counts))
        print(f"Erased {shown}: " + ", ".join(f"{label} {count}" for label, count in counts.items()))
        print("Also remove it from any CSV already sent on, and from var/referral_spool.jsonl if present.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
