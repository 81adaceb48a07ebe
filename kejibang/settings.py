"""Every setting of every kejibang process, read once from the environment.

The README's configuration table is generated from ``VARIABLES`` below, so this module is the one
place where a variable, its default and its meaning are written down.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Variable:
    """One environment variable: its name, the default used when unset, and what it controls."""

    name: str
    default: str
    meaning: str


VARIABLES: tuple[Variable, ...] = (
    Variable("TELEGRAM_BOT_TOKEN", "", "Telegram bot token; unset (and no WeChat): `kejibang run` opens the terminal chat"),
    Variable("TELEGRAM_API_URL", "", "Bot API base URL (a local Bot API server or the test emulator); unset: Telegram's"),
    Variable("TELEGRAM_WEBHOOK_URL", "", "public HTTPS URL Telegram posts updates to (behind the reverse proxy); unset: long polling"),
    Variable("TELEGRAM_WEBHOOK_SECRET", "", "secret token Telegram sends with every webhook request; required with TELEGRAM_WEBHOOK_URL"),
    Variable("KEJIBANG_WEBHOOK_PORT", "8443", "loopback port the webhook server listens on (the reverse proxy forwards to it)"),
    Variable("WECHAT_TOKEN", "", "token of the WeChat Official Account's server configuration (signs every callback); with WECHAT_APP_ID and WECHAT_APP_SECRET `kejibang run` serves WeChat"),
    Variable("WECHAT_APP_ID", "", "the Official Account's AppID"),
    Variable("WECHAT_APP_SECRET", "", "the Official Account's AppSecret (for the access token of the customer-service API)"),
    Variable("WECHAT_AES_KEY", "", "EncodingAESKey (43 characters): safe mode, messages encrypted both ways; unset: plain mode"),
    Variable("WECHAT_API_URL", "https://api.weixin.qq.com", "WeChat API base (a local emulator in tests)"),
    Variable("KEJIBANG_WECHAT_PORT", "8700", "loopback port of the WeChat callback `/wechat` (the reverse proxy forwards to it)"),
    Variable("KEJIBANG_EXCHANGE_URL", "", "URL of a remote exchange; unset: the embedded exchange, in-process"),
    Variable("KEJIBANG_EXCHANGE_API_KEY", "dev-key", "the bot's API key, sent to (and accepted by) the exchange with every right; other callers get scoped keys (`kejibang admin keys`)"),
    Variable("KEJIBANG_ENV", "dev", "dev: the exchange server may start with the default or a short key; any other value (production): it refuses to"),
    Variable("KEJIBANG_EXCHANGE_DB", "", "SQLAlchemy URL of the exchange database; unset: sqlite under KEJIBANG_VAR_DIR"),
    Variable("KEJIBANG_EXCHANGE_PORT", "8600", "port of `kejibang exchange serve`"),
    Variable("KEJIBANG_DB", "", "SQLAlchemy URL of the assistant's own store; unset: sqlite under KEJIBANG_VAR_DIR"),
    Variable("KEJIBANG_TRACKER_DB", "", "SQLAlchemy URL of Rasa's tracker store; unset: sqlite under KEJIBANG_VAR_DIR"),
    Variable("KEJIBANG_MODEL_DIR", "models", "where trained Rasa models are kept (relative to the project)"),
    Variable("KEJIBANG_ACTIONS_PORT", "5055", "port of the custom-action server of the production profile (`python -m kejibang.action_server`, deploy/)"),
    Variable("KEJIBANG_ACTIONS_URL", "", "webhook URL of an action server for the model `kejibang run` loads; unset: the custom actions run inside `kejibang run` (no server, no HTTP)"),
    Variable("KEJIBANG_WORKERS", "1", "dialogue worker processes of `kejibang run` (`--workers`); each loads the model and runs the actions, and each person is always served by the same one: raise it to the number of cores when one core is busy (deploy/README.md: what a worker costs)"),
    Variable("TF_INTRA_OP_PARALLELISM_THREADS", "1", "TensorFlow threads within one op in every process that answers (a turn's tensors are one sentence: more threads only spin); training keeps TensorFlow's defaults"),
    Variable("TF_INTER_OP_PARALLELISM_THREADS", "1", "TensorFlow ops run at once in every process that answers (as above)"),
    Variable("RASA_URL", "", "URLs of running Rasa servers, comma-separated, taken in turn per message; unset: the model is loaded in-process"),
    Variable("RASA_TOKEN", "", "auth token of the Rasa servers' HTTP API (`kejibang rasa serve` requires it; the bot sends it)"),
    Variable("KEJIBANG_INTERNAL_SECRET", "", "shared secret the bot and Rasa send to the Rasa REST channel and the action server (header X-Kejibang-Secret; others get 403); unset: production servers refuse to start (`kejibang run` runs its actions in-process and needs none)"),
    Variable("KEJIBANG_VAR_DIR", "var", "folder for the embedded databases and logs (relative to the project)"),
    Variable("KEJIBANG_SEED_SAMPLE", "1", "1: seed an empty embedded exchange with the sample experts and articles"),
    Variable("KEJIBANG_VOLUNTEER_CHAT", "", "the volunteers' group chat, e.g. telegram:-1001234567890; unset: volunteers are told one by one"),
    Variable("KEJIBANG_HANDOFF_REMIND_MINUTES", "30", "an unclaimed handoff case is announced again after this many minutes"),
    Variable("KEJIBANG_EXPERT_REMIND_HOURS", "12", "an expert who has not answered a request is reminded once after this many hours"),
    Variable("KEJIBANG_EXPERT_ANSWER_HOURS", "24", "an unanswered request passes to the next-best expert after this many hours"),
    Variable("KEJIBANG_FOLLOW_UP_DAYS", "3", "days after an expert accepts, the farmer is asked whether the problem is solved"),
    Variable("KEJIBANG_RATE_LIMIT_MESSAGES", "30", "at most this many updates per person in KEJIBANG_RATE_LIMIT_SECONDS (messages, photos, voice, buttons, /start; staff's own commands are exempt)"),
    Variable("KEJIBANG_RATE_LIMIT_SECONDS", "60", "the window of the per-person message limit, in seconds"),
    Variable("KEJIBANG_RETENTION_DAYS", "180", "conversation events older than this many days are deleted (daily by the bot, or `kejibang admin purge`)"),
    Variable("KEJIBANG_LOG_LEVEL", "INFO", "log level of every kejibang process"),
)


_DEFAULTS = {v.name: v.default for v in VARIABLES}


def _env(name: str) -> str:
    return os.environ.get(name, _DEFAULTS[name]).strip()


def _project_path(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


@dataclass(frozen=True)
class Settings:
    """The resolved configuration of one process (build it with ``Settings.from_env()``)."""

    telegram_token: str
    telegram_api_url: str
    webhook_url: str
    webhook_secret: str
    webhook_port: int
    wechat_token: str
    wechat_app_id: str
    wechat_app_secret: str
    wechat_aes_key: str
    wechat_api_url: str
    wechat_port: int
    exchange_url: str
    exchange_api_key: str
    exchange_db: str
    exchange_port: int
    assistant_db: str
    tracker_db: str
    model_dir: Path
    actions_port: int
    actions_url: str
    workers: int
    rasa_urls: tuple[str, ...]
    rasa_token: str
    internal_secret: str
    var_dir: Path
    seed_sample: bool
    volunteer_chat: str
    handoff_remind_minutes: int
    expert_remind_hours: float
    expert_answer_hours: float
    follow_up_days: float
    rate_limit_messages: int
    rate_limit_seconds: float
    retention_days: int
    log_level: str
    env: str = "dev"

    @property
    def wechat_configured(self) -> bool:
        """Whether WeChat is served: its token, AppID and AppSecret are all set."""
        return bool(self.wechat_token and self.wechat_app_id and self.wechat_app_secret)

    @classmethod
    def from_env(cls) -> Settings:
        """The settings the environment gives now. Actions ask for them every turn: they are built again
        only when one of the variables changed (a test's), not parsed and validated each time."""
        return _settings_for(tuple(os.environ.get(name) for name in _DEFAULTS))

    @classmethod
    def _read(cls) -> Settings:
        """Read the environment; relative paths are taken from the project root."""
        var_dir = _project_path(_env("KEJIBANG_VAR_DIR"))
        actions_port = int(_env("KEJIBANG_ACTIONS_PORT"))
        return cls(
            telegram_token=_env("TELEGRAM_BOT_TOKEN"),
            telegram_api_url=_env("TELEGRAM_API_URL"),
            webhook_url=_env("TELEGRAM_WEBHOOK_URL"),
            webhook_secret=_env("TELEGRAM_WEBHOOK_SECRET"),
            webhook_port=int(_env("KEJIBANG_WEBHOOK_PORT")),
            wechat_token=_env("WECHAT_TOKEN"),
            wechat_app_id=_env("WECHAT_APP_ID"),
            wechat_app_secret=_env("WECHAT_APP_SECRET"),
            wechat_aes_key=_env("WECHAT_AES_KEY"),
            wechat_api_url=_env("WECHAT_API_URL").rstrip("/"),
            wechat_port=int(_env("KEJIBANG_WECHAT_PORT")),
            exchange_url=_env("KEJIBANG_EXCHANGE_URL").rstrip("/"),
            exchange_api_key=_env("KEJIBANG_EXCHANGE_API_KEY"),
            exchange_db=_env("KEJIBANG_EXCHANGE_DB") or f"sqlite:///{var_dir / 'exchange.db'}",
            exchange_port=int(_env("KEJIBANG_EXCHANGE_PORT")),
            assistant_db=_env("KEJIBANG_DB") or f"sqlite:///{var_dir / 'assistant.db'}",
            tracker_db=_env("KEJIBANG_TRACKER_DB") or f"sqlite:///{var_dir / 'tracker.db'}",
            model_dir=_project_path(_env("KEJIBANG_MODEL_DIR")),
            actions_port=actions_port,
            actions_url=_env("KEJIBANG_ACTIONS_URL"),
            workers=max(1, int(_env("KEJIBANG_WORKERS"))),
            rasa_urls=tuple(url.strip().rstrip("/") for url in _env("RASA_URL").split(",") if url.strip()),
            rasa_token=_env("RASA_TOKEN"),
            internal_secret=_env("KEJIBANG_INTERNAL_SECRET"),
            var_dir=var_dir,
            seed_sample=_env("KEJIBANG_SEED_SAMPLE") == "1",
            volunteer_chat=_env("KEJIBANG_VOLUNTEER_CHAT"),
            handoff_remind_minutes=int(_env("KEJIBANG_HANDOFF_REMIND_MINUTES")),
            expert_remind_hours=float(_env("KEJIBANG_EXPERT_REMIND_HOURS")),
            expert_answer_hours=float(_env("KEJIBANG_EXPERT_ANSWER_HOURS")),
            follow_up_days=float(_env("KEJIBANG_FOLLOW_UP_DAYS")),
            rate_limit_messages=int(_env("KEJIBANG_RATE_LIMIT_MESSAGES")),
            rate_limit_seconds=float(_env("KEJIBANG_RATE_LIMIT_SECONDS")),
            retention_days=int(_env("KEJIBANG_RETENTION_DAYS")),
            log_level=_env("KEJIBANG_LOG_LEVEL").upper(),
            env=_env("KEJIBANG_ENV").lower(),
        )


@lru_cache(maxsize=8)
def _settings_for(environment: tuple[str | None, ...]) -> Settings:
    """The settings for one state of the variables (the key; the values are read again from it)."""
    return Settings._read()


def markdown_table() -> str:
    """The configuration table printed in the README (kept in sync by a test)."""
    rows = ["| variable | default | what it sets |", "|---|---|---|"]
    rows += [f"| `{v.name}` | `{v.default}` | {v.meaning} |" if v.default else f"| `{v.name}` | (unset) | {v.meaning} |"
             for v in VARIABLES]
    return "\n".join(rows)
