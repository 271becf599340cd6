"""Pathfinder's benchmark: `python -m bench` (or scripts/bench.sh). Not a test suite.

It starts its own servers on free ports, measures end-to-end REST turns, NLU alone,
training, long conversations and the Redis lock under contention, runs the stock
`rasa init` bot as a baseline in the same run, and writes a Markdown table and a PNG chart
to bench/results/.
"""
