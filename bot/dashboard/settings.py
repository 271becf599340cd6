"""The dashboard's settings, read from PATHFINDER_* environment variables.

The shared ones (database, retention) and the number parsing come from bot/config.py.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from bot.config import load_settings, secret_key, whole_number


@dataclass(frozen=True)
class DashboardSettings:
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8080
    retention_days: int = 90
    referral_retention_days: int = 365  # counted from when a referral was closed
    session_idle_minutes: int = 30
    session_absolute_hours: int = 8
    login_window_minutes: int = 15
    max_failures_per_account: int = 5
    max_failures_per_address: int = 20  # an office shares one address: looser than per account
    proxies_count: int = 0  # reverse proxies in front (TLS terminator): their X-Forwarded-For is trusted
    urgent_undelivered_minutes: int = 10  # an urgent referral's e-mail this late shows "not delivered"


def load_dashboard_settings() -> DashboardSettings:
    """The database and the retention period are the bot's settings (bot/config.py); the
    rest are the dashboard's own. A bad value stops the start with its reason."""
    env = os.environ
    try:
        shared = load_settings()
        return DashboardSettings(
            database_url=shared.database_url,
            host=env.get("PATHFINDER_DASHBOARD_HOST", DashboardSettings.host),
            port=whole_number("PATHFINDER_DASHBOARD_PORT", env.get("PATHFINDER_DASHBOARD_PORT"), DashboardSettings.port),
            retention_days=shared.retention_days,
            urgent_undelivered_minutes=shared.urgent_undelivered_minutes,
            referral_retention_days=whole_number("PATHFINDER_REFERRAL_RETENTION_DAYS",
                                                 env.get("PATHFINDER_REFERRAL_RETENTION_DAYS"),
                                                 DashboardSettings.referral_retention_days),
            proxies_count=whole_number("PATHFINDER_DASHBOARD_PROXIES", env.get("PATHFINDER_DASHBOARD_PROXIES"),
                                       DashboardSettings.proxies_count, minimum=0),
        )
    except ValueError as error:
        raise SystemExit(str(error)) from None


def display_key() -> bytes:
    """The key for display ids: PATHFINDER_DASHBOARD_ID_KEY, or a random one kept in var/.

    Kept apart from the SMS hash key, so a display id cannot be linked to a phone number.
    """
    return secret_key("PATHFINDER_DASHBOARD_ID_KEY", "dashboard_id_key")
