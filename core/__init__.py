"""The channel-neutral core (``assistant.py``), the people's desks and the dialogue backend; the messaging
apps themselves are in ``channels/``, wired to all of this once in ``kejibang/app.py``."""
