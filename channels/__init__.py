"""Messaging apps (Telegram, WeChat, the terminal): each turns its app's events into calls on the core
(``kejibang/app.py``) and renders the replies; none owns a store, a desk or a timer."""
