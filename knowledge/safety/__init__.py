"""Safety layer (no Rasa imports): the kinds of danger and their help (kinds.py, kinds.yml), the
crisis patterns (crisis.py), the classifier (classifier.py), the two together (detect.py) and
the reply for a kind (reply.py). Import those modules directly: this package imports only
the patterns, so using them does not load scikit-learn."""

from .crisis import CATEGORIES, CrisisHit, CrisisMatcher, default_matcher, normalise

__all__ = ["CATEGORIES", "CrisisHit", "CrisisMatcher", "default_matcher", "normalise"]
