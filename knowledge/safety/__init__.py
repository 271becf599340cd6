"""Safety layer: deterministic crisis detection (pure Python, no Rasa imports)."""

from .crisis import CATEGORIES, CrisisHit, CrisisMatcher, default_matcher, normalise

__all__ = ["CATEGORIES", "CrisisHit", "CrisisMatcher", "default_matcher", "normalise"]
