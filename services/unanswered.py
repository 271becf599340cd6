"""Recording questions the offer had no answer for."""
from __future__ import annotations

from typing import Optional

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from services.models import UnansweredQuestion


def record_unanswered(
    engine: Engine,
    conversation_id: str,
    text: str,
    council_id: Optional[str],
    topic: Optional[str],
    intent: Optional[str],
) -> int:
    """Store one unanswered question; returns its id."""
    with Session(engine) as session, session.begin():
        row = UnansweredQuestion(
            conversation_id=conversation_id,
            text=text[:2000],
            council_id=council_id,
            topic=topic,
            intent=intent,
        )
        session.add(row)
        session.flush()
        return row.id
