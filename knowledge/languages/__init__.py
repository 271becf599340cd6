"""Languages other than English: detection (`detect`) and the core replies as data (`catalog`).

No Rasa here: the NLU gate (bot/nlu/language_gate.py) and the actions call these modules.
"""
