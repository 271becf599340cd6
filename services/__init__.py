"""Pathfinder's service layer: referrals to people, notifications and the records staff review.

Plain Python + SQLAlchemy on the same database as the knowledge base; no Rasa here, so the
action server, the web app and command-line tools share one implementation.
"""
