"""Pathfinder's input channels (REST for the widget and the evaluation harness; SMS)."""
