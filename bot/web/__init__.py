"""The public web front: the chat widget's files, demo council pages, and a proxy to the bot.

The widget (static/pathfinder-widget.js) is one script a council adds to its page. It talks
to this app's `/webhooks/rest/*`, which forwards to the Rasa server's REST channel, so the
Rasa server and its token-protected HTTP API never face the internet; if the Rasa server is
down, this app still answers with the crisis numbers (when the message needs them) and the
leaving-care team's phone number.
"""
