"""Messaging front ends (Telegram, terminal) over one channel-neutral dialogue backend."""
