"""Pathfinder's own NLU pieces: the spaCy pipeline it builds and the crisis layer."""
