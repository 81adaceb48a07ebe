"""The people's desks, channel-neutral: volunteers (the handoff queue and relay), township chairs (invites,
registering on someone's behalf, the township's numbers), experts (offers, conversations, outcomes) and
account hand-overs. ``commands.py`` is the one registry of staff commands every channel reads."""
