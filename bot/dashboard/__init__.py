"""The staff dashboard: conversation review, referrals and reports for participation workers.

Everything personal is redacted when it is read (services/redact.py), staff see
pseudonymous display ids (services/privacy.py), and each staff member sees only their
own council's conversations.
"""
