"""Pathfinder's knowledge of the Local Offer: content files, their validation and the store.

This package knows nothing of Rasa: the action server and the web app both call into it,
so the rules about who is entitled to what live in exactly one place.
"""
