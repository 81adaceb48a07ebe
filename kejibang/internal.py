"""The shared secret that lets only the bot call the dialogue.

The Rasa REST channel takes a ``sender`` from whoever posts, and the action server runs any action for
any tracker it is sent: on a shared machine, any local process could act as any farmer, chair or
volunteer. So the bot (``RasaServer``), and Rasa calling its actions, send ``X-Kejibang-Secret``; the
REST channel (``kejibang.rest_channel``) and the action server (``kejibang.action_server``) answer 403
without it. Production sets ``KEJIBANG_INTERNAL_SECRET`` (its servers refuse to start without it);
``kejibang run`` with everything embedded needs none: its actions run in its own process.
"""

from __future__ import annotations

import hmac
import os

from core.texts import Operator

SECRET_HEADER = "X-Kejibang-Secret"
SECRET_VARIABLE = "KEJIBANG_INTERNAL_SECRET"
MISSING = Operator.SECRET_MISSING.format(variable=SECRET_VARIABLE)


def current_secret() -> str:
    """The secret of this process (and its children), or "" when none was set or made."""
    return os.environ.get(SECRET_VARIABLE, "").strip()


def is_the_bot(given: str | None, secret: str) -> bool:
    """Whether a request carries the secret (compared in constant time; no secret admits nobody)."""
    return bool(secret) and hmac.compare_digest((given or "").encode(), secret.encode())


def secret_headers(secret: str) -> dict[str, str]:
    """The header the bot and Rasa send with every internal call."""
    return {SECRET_HEADER: secret} if secret else {}
