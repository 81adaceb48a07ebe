"""The exchange: users, needs, experts, articles, and the matcher that joins them.

``exchange.api`` is the one interface the assistant uses; ``exchange.local`` serves it in-process
over SQLAlchemy, ``exchange.client`` over HTTP against ``exchange.server``.
"""
