"""All of Pathfinder's configuration, read from the environment in this one place.

Defaults give a working local set-up (SQLite file under var/, everything on localhost);
production sets PATHFINDER_ENV=production and real values, and `check_production` refuses
to start with demo values that would put a young person through to nobody.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PATHFINDER_VAR_DIR", ROOT / "var"))


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = f"sqlite:///{VAR_DIR / 'pathfinder.db'}"
    rasa_url: str = "http://localhost:5005"
    action_url: str = "http://localhost:5055/webhook"
    auth_token: Optional[str] = None
    cors_origins: List[str] = field(default_factory=list)
    smtp_host: str = "localhost"
    smtp_port: int = 8025
    smtp_user: Optional[str] = None
    smtp_password: Optional[str] = None
    smtp_starttls: bool = False
    mail_from: str = "pathfinder@localhost"
    # Seconds each SMTP step may take: a relay that accepts and never answers fails this fast.
    smtp_timeout: int = 10
    # An urgent referral whose e-mail has not gone this many minutes after it was asked for is
    # shown as "not delivered" (dashboard, `bot.referrals list`): someone must phone the team.
    urgent_undelivered_minutes: int = 10
    # Where referral e-mails go when the content has no e-mail for the council's team.
    team_inbox: str = "leaving-care-team@localhost"
    # How long conversations are kept; the widget's privacy notice quotes this number.
    retention_days: int = 90
    # Messages a minute the site's proxy takes from one conversation, and from one address
    # (bot/rate_limit.py); a crisis message is never refused.
    messages_per_minute: int = 20
    messages_per_minute_per_address: int = 60
    # Texts a minute the SMS webhook takes from one number (a crisis text is never refused).
    texts_per_minute: int = 10
    # The largest request body the Rasa server takes (REST turns, SMS webhooks, the HTTP API):
    # a bigger one is refused with 413 from its Content-Length, before it is read.
    max_request_bytes: int = 256 * 1024

    @property
    def production(self) -> bool:
        return self.env == "production"


def _split(value: str) -> List[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def whole_number(name: str, value: Optional[str], default: int, minimum: int = 1) -> int:
    """A whole number of at least `minimum` (1 unless told: a retention of 0 days would delete
    every conversation); the default when unset or empty, ValueError naming `name` otherwise."""
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {number}")
    return number


def load_settings() -> Settings:
    """Settings from PATHFINDER_* environment variables, defaults for the rest."""
    env = os.environ
    defaults = Settings()
    return Settings(
        env=env.get("PATHFINDER_ENV", defaults.env),
        database_url=env.get("PATHFINDER_DB_URL", defaults.database_url),
        rasa_url=env.get("PATHFINDER_RASA_URL", defaults.rasa_url),
        action_url=env.get("PATHFINDER_ACTION_URL", defaults.action_url),
        auth_token=env.get("PATHFINDER_AUTH_TOKEN") or None,
        cors_origins=_split(env.get("PATHFINDER_CORS_ORIGINS", "")),
        smtp_host=env.get("PATHFINDER_SMTP_HOST", defaults.smtp_host),
        smtp_port=int(env.get("PATHFINDER_SMTP_PORT", defaults.smtp_port)),
        smtp_user=env.get("PATHFINDER_SMTP_USER") or None,
        smtp_password=env.get("PATHFINDER_SMTP_PASSWORD") or None,
        smtp_starttls=env.get("PATHFINDER_SMTP_STARTTLS", "false").lower() == "true",
        mail_from=env.get("PATHFINDER_MAIL_FROM", defaults.mail_from),
        smtp_timeout=whole_number("PATHFINDER_SMTP_TIMEOUT", env.get("PATHFINDER_SMTP_TIMEOUT"), defaults.smtp_timeout),
        urgent_undelivered_minutes=whole_number("PATHFINDER_URGENT_UNDELIVERED_MINUTES",
                                                env.get("PATHFINDER_URGENT_UNDELIVERED_MINUTES"),
                                                defaults.urgent_undelivered_minutes),
        team_inbox=env.get("PATHFINDER_TEAM_INBOX", defaults.team_inbox),
        retention_days=whole_number("PATHFINDER_RETENTION_DAYS", env.get("PATHFINDER_RETENTION_DAYS"), defaults.retention_days),
        messages_per_minute=whole_number("PATHFINDER_MESSAGES_PER_MINUTE", env.get("PATHFINDER_MESSAGES_PER_MINUTE"),
                                         defaults.messages_per_minute),
        texts_per_minute=whole_number("PATHFINDER_TEXTS_PER_MINUTE", env.get("PATHFINDER_TEXTS_PER_MINUTE"),
                                      defaults.texts_per_minute),
        max_request_bytes=whole_number("PATHFINDER_MAX_REQUEST_BYTES", env.get("PATHFINDER_MAX_REQUEST_BYTES"),
                                       defaults.max_request_bytes, minimum=16 * 1024),
        messages_per_minute_per_address=whole_number(
            "PATHFINDER_MESSAGES_PER_MINUTE_PER_ADDRESS", env.get("PATHFINDER_MESSAGES_PER_MINUTE_PER_ADDRESS"),
            defaults.messages_per_minute_per_address),
    )


def check_production(settings: Settings, placeholder_contacts: List[str]) -> List[str]:
    """Reasons a production start must be refused (empty list: fine to start)."""
    if not settings.production:
        return []
    reasons = [f"placeholder contact in the offer files: {item}" for item in placeholder_contacts]
    if not settings.auth_token:
        reasons.append("PATHFINDER_AUTH_TOKEN is not set: the Rasa HTTP API would be open")
    if settings.database_url.startswith("sqlite"):
        reasons.append("PATHFINDER_DB_URL is SQLite: production uses PostgreSQL")
    return reasons


def secret_key(variable: str, file_name: str) -> bytes:
    """A signing key: the environment variable `variable`, else a random one kept in var/.

    Why a file by default: a local start needs no set-up, and the key survives restarts (what
    it signed stays valid). Created 0600 and never overwritten; several processes starting at
    once all end up with the first one's key. Production sets the variable, so every replica
    shares it."""
    configured = os.environ.get(variable)
    if configured:
        return configured.encode("utf8")
    path = VAR_DIR / file_name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it a moment ago: use theirs
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
    key = path.read_text().strip()
    if not key:
        raise SystemExit(f"{path} is empty: delete it (what it signed stops matching) or set {variable}")
    return key.encode("utf8")


def dashboard_url() -> str:
    """Where staff open a conversation (used in referral e-mails)."""
    return os.environ.get("PATHFINDER_DASHBOARD_URL", "http://localhost:8080")
