"""The assistant's own store: which chat is which exchange user, and (later) roles, invites,
handoff cases and the audit log. It knows conversations, never Telegram.
"""
