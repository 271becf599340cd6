"""Realistic multi-turn conversations (messages written the way young people text, from
tests/eval/dev.yml and tests/test_conversation.py). No crisis or referral turns: those send
e-mails and create referrals, which would measure the SMTP server, not the assistant."""
from __future__ import annotations

from typing import List

COUNCILS = ("walsall", "nottingham", "cambridgeshire")

PATHFINDER_SCRIPTS: List[List[str]] = [
    ["hiya", "how much do u get 2 set up ur first flat", "is there a grant for furnishing my new flat",
     "r we care leavers meant 2 pay the council tax or not", "cheers that was well useful"],
    ["yoo anyone on here", "do i get any money 4 uni", "hw do i apply thru ucas", "can I still get help at 22?",
     "ta luv"],
    ["hello", "rent is mad expensive cn u help", "whats it like living in supported lodgins",
     "never had a bank account where do i start", "how do i get a copy of my birth certificate", "thnks so much bro"],
    ["wat can this thing do", "cn sum1 check my cv", "need an sti test", "im so bored wat is there 2 do",
     "wat about the gym", "is it gonna snow tmrw", "ok im gonna go now bye bye"],
    ["gd evening x", "need stuff for my flat like a bed n fridge", "i got no friends is there like a befriender thing",
     "is der a group where care leavers get a say", "cheers"],
]

# The stock `rasa init` bot knows greetings, moods and goodbyes: the same shape of
# conversation in its own domain.
STOCK_SCRIPTS: List[List[str]] = [
    ["hello", "I am sad", "yes", "great", "bye"],
    ["hi there", "not good", "no", "are you a bot?", "goodbye"],
    ["hey", "I am great", "perfect", "see you later"],
]

# One long conversation: questions that do not start a form, cycled for as many turns as asked.
LONG_CONVERSATION = [
    "how much is the setting up home grant", "do i hav 2 pay council tax", "wat about the gym",
    "can i get help with uni", "need an sti test", "cheers",
]
