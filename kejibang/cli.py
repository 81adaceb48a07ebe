"""The `kejibang` command: what a user, an operator or another tool does with the assistant.

`parse`, `exchange import` and `exchange match` keep the shapes of shared/contracts/README.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from core.texts import Operator
from kejibang.settings import Settings


def _settings() -> Settings:
    return Settings.from_env()


def _print_json(obj: object) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False))


@click.group()
def main() -> None:
    """科技帮：科技交易平台的聊天助手。"""


@main.command()
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="dialogue worker processes (default KEJIBANG_WORKERS, else 1)")
def run(workers: int | None) -> None:
    """Start the assistant: Telegram when TELEGRAM_BOT_TOKEN is set, else the terminal chat."""
    from dataclasses import replace

    from kejibang.launcher import LaunchError
    from kejibang.launcher import run as launch

    settings = _settings()
    try:
        launch(replace(settings, workers=workers or settings.workers))
    except LaunchError as error:
        raise click.ClickException(str(error)) from error


@main.command()
def chat() -> None:
    """Start the assistant with the terminal chat, even when a Telegram token is set."""
    from kejibang.launcher import LaunchError
    from kejibang.launcher import run as launch

    try:
        launch(_settings(), terminal=True)
    except LaunchError as error:
        raise click.ClickException(str(error)) from error


@main.command()
@click.option("--force", is_flag=True, help="Train even when the inputs did not change.")
def train(force: bool) -> None:
    """Train the Rasa model when its inputs changed; print the model path."""
    from kejibang.model import train as train_model

    click.echo(str(train_model(_settings().model_dir, force=force)))


@main.command()
def validate() -> None:
    """`rasa data validate`, held to zero warnings (responses sent by actions count as used)."""
    from kejibang.validation import validate as run_validation

    problems = run_validation()
    for problem in problems:
        click.echo(f"✗ {problem}", err=True)
    if problems:
        raise click.ClickException(Operator.VALIDATION_PROBLEMS.format(count=len(problems)))
    click.echo(Operator.VALIDATED)


@main.command()
def parse() -> None:
    """Read one message a line on stdin; write the NLU result of each as one JSON line."""
    import asyncio

    from kejibang.nlu_parse import parse_lines

    asyncio.run(parse_lines(_settings(), sys.stdin, _print_json))


@main.group()
def exchange() -> None:
    """The exchange: serve it, import records, match needs."""


def _exchange(settings: Settings):
    from exchange.api import connect

    return connect(settings.exchange_url, settings.exchange_api_key, settings.exchange_db)


@exchange.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Default: KEJIBANG_EXCHANGE_PORT.")
def exchange_serve(host: str, port: int | None) -> None:
    """Serve the reference exchange over HTTP on KEJIBANG_EXCHANGE_DB."""
    from aiohttp import web

    from exchange.api import warm
    from exchange.keys import unsafe_server_key
    from exchange.server import create_app
    from exchange.service import ExchangeService
    from kejibang.launcher import configure_logging

    settings = _settings()
    refusal = unsafe_server_key(settings.exchange_api_key, settings.env)
    if refusal:
        raise click.ClickException(f"{refusal}（KEJIBANG_ENV={settings.env}）")
    configure_logging(settings.log_level)
    service = ExchangeService(settings.exchange_db)
    warm(service)
    click.echo(Operator.EXCHANGE_SERVING.format(host=host, port=port or settings.exchange_port,
                                               database=settings.exchange_db))
    web.run_app(create_app(service, settings.exchange_api_key), host=host, port=port or settings.exchange_port,
                print=None)


@exchange.command("import")
@click.argument("kind", type=click.Choice(["experts", "articles"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def exchange_import(kind: str, file: Path) -> None:
    """Import experts or articles from a JSON Lines file (all or nothing)."""
    from exchange.importer import import_file

    report = import_file(_exchange(_settings()), kind, file, show_progress=sys.stderr.isatty())
    if not report.ok:
        for bad in report.bad_lines:
            click.echo(str(bad), err=True)
        raise click.ClickException(Operator.IMPORT_REFUSED.format(count=len(report.bad_lines)))
    click.echo(Operator.IMPORTED.format(kind=kind, created=report.created, updated=report.updated))


@exchange.command("match")
@click.option("--top", type=int, default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON lines (the default and only format).")
def exchange_match(top: int, as_json: bool) -> None:
    """Read needs (JSON Lines) on stdin; write one match result per need, in order."""
    from exchange.matching_cli import match_lines

    match_lines(_exchange(_settings()), sys.stdin, top, _print_json)


@main.group("rasa")
def rasa_group() -> None:
    """The production profile's Rasa servers (deploy/)."""


@rasa_group.command("serve")
@click.option("--port", type=int, default=5005, show_default=True, help="Loopback port of this server.")
def rasa_serve(port: int) -> None:
    """One Rasa server: REST channel, API on loopback behind RASA_TOKEN, deploy/endpoints.production.yml."""
    from kejibang.launcher import LaunchError
    from kejibang.rasa_server import serve

    try:
        serve(_settings(), port)
    except LaunchError as error:
        raise click.ClickException(str(error)) from error


@main.group()
def admin() -> None:
    """Operator commands."""


@admin.command("config")
def admin_config() -> None:
    """Print every configuration variable, its default and its meaning."""
    from kejibang.settings import markdown_table

    click.echo(markdown_table())


def _issue_code(role: str, hours: int, township_code: str = "", expert_id: str = "") -> None:
    from store.database import store_database
    from store.roles import ROLES, Roles

    code, expires = Roles(store_database(_settings().assistant_db)).issue(role, township_code, hours,
                                                                          expert_id=expert_id)
    click.echo(Operator.ROLE_CODE.format(title=ROLES[role], code=code))
    click.echo(Operator.ROLE_CODE_EXPIRES.format(expires=expires, code=code))


@admin.command("add-chair")
@click.option("--township", required=True, help=f"The chair's township, e.g. {Operator.EXAMPLE_TOWNSHIP}.")
@click.option("--hours", type=int, default=72, show_default=True, help="How long the code stays valid.")
def admin_add_chair(township: str, hours: int) -> None:
    """Issue a one-time code that makes its sender the township's science-association chair."""
    from exchange.errors import InputRejected
    from exchange.people import checked_township

    try:
        place = checked_township(township)
    except InputRejected as error:
        raise click.ClickException(error.message) from error
    click.echo(Operator.CHAIR_TOWNSHIP.format(township=place.full_name, code=place.township_code))
    _issue_code("chair", hours, township_code=place.township_code)


@admin.command("add-volunteer")
@click.option("--hours", type=int, default=72, show_default=True, help="How long the code stays valid.")
def admin_add_volunteer(hours: int) -> None:
    """Issue a one-time code that makes its sender a 科普 volunteer."""
    _issue_code("volunteer", hours)


@admin.command("add-expert")
@click.option("--expert", "expert_id", required=True, help="The expert's id on the exchange, e.g. e-0001.")
@click.option("--hours", type=int, default=72, show_default=True, help="How long the code stays valid.")
def admin_add_expert(expert_id: str, hours: int) -> None:
    """Issue a one-time code that links its sender's chat to an expert record of the exchange."""
    from exchange.errors import ExchangeError

    try:
        expert = _exchange(_settings()).get_expert(expert_id)
    except ExchangeError as error:
        raise click.ClickException(error.message) from error
    click.echo(Operator.EXPERT_FOR_CODE.format(name=expert["name"], organization=expert.get("organization") or "—",
                                              expert_id=expert_id))
    _issue_code("expert", hours, expert_id=expert_id)


@admin.command("revoke")
@click.option("--chat", required=True, help="The person's chat, e.g. telegram:123456789 (a bare number is a Telegram chat).")
@click.option("--role", required=True, help="chair, volunteer or expert.")
def admin_revoke(chat: str, role: str) -> None:
    """Take a role away (audited); the person is told the next time they write to the bot."""
    from store.database import store_database
    from store.roles import ROLES, Roles

    if role not in ROLES:
        raise click.BadParameter(Operator.ROLE_CHOICES.format(roles=" / ".join(ROLES)), param_hint="--role")
    sender_id = f"telegram:{chat}" if chat.lstrip("-").isdigit() else chat
    if not Roles(store_database(_settings().assistant_db)).revoke(sender_id, role):
        raise click.ClickException(Operator.ROLE_NOT_HELD.format(chat=sender_id, title=ROLES[role]))
    click.echo(Operator.ROLE_REVOKED.format(chat=sender_id, title=ROLES[role]))


@admin.command("audit")
@click.option("--limit", type=int, default=50, show_default=True)
def admin_audit(limit: int) -> None:
    """Print the newest role actions."""
    from store.database import store_database
    from store.roles import Roles

    for at, actor, action, detail in Roles(store_database(_settings().assistant_db)).audit_log(limit):
        click.echo(f"{at:%Y-%m-%d %H:%M:%S}  {actor}  {action}  {detail}")


@admin.command("outbox")
@click.option("--retry", "retry_id", type=int, default=None, metavar="ID",
              help="Put dead letter ID back in the outbox; the bot's worker sends it again within seconds.")
@click.option("--limit", type=int, default=50, show_default=True)
def admin_outbox(retry_id: int | None, limit: int) -> None:
    """List the writes the exchange refused or answered unreadably (dead letters), newest first; or retry one."""
    from store.database import store_database
    from store.outbox import Outbox

    outbox = Outbox(store_database(_settings().assistant_db))
    if retry_id is not None:
        _retry_dead_letter(outbox, retry_id)
        return
    letters = outbox.dead_letters(limit)
    click.echo(Operator.OUTBOX_COUNTS.format(waiting=outbox.waiting(), dead=len(letters)) + ("" if letters else "。"))
    for letter in letters:
        note = Operator.DEAD_LETTER_EMPTIED if letter.emptied else ""
        click.echo(Operator.DEAD_LETTER.format(id=letter.id, at=letter.dead_at, chat=letter.sender_id,
                                               write=letter.command.value, attempts=letter.attempts, code=letter.code,
                                               reason=letter.reason, note=note))


def _retry_dead_letter(outbox, retry_id: int) -> None:
    """Why a retry did or did not happen, in words; a retry that cannot happen exits non-zero."""
    from store.outbox import Retry

    outcome = outbox.retry(retry_id)
    if outcome is Retry.MISSING:
        raise click.ClickException(Operator.NO_DEAD_LETTER.format(id=retry_id))
    if outcome is Retry.EMPTIED:
        raise click.ClickException(Operator.CANNOT_RETRY.format(id=retry_id))
    if outcome is Retry.SUPERSEDED:
        click.echo(Operator.SUPERSEDED.format(id=retry_id))
        return
    click.echo(Operator.RETRIED.format(id=retry_id))


@admin.group("keys")
def admin_keys() -> None:
    """Scoped API keys of the exchange (bot, operator, partner); only their hashes are stored."""


def _exchange_db():
    """The exchange's database (keys live beside the data they guard), migrated on open."""
    from exchange.database import exchange_database

    return exchange_database(_settings().exchange_db)


@admin_keys.command("list")
def admin_keys_list() -> None:
    """Every key issued, oldest first (the keys themselves are never shown again)."""
    from exchange.keys import list_keys

    keys = list_keys(_exchange_db())
    click.echo(Operator.KEY_COUNT.format(count=len(keys)) + ("" if keys else "。"))
    for key in keys:
        state = Operator.KEY_REVOKED_AT.format(at=key["revoked_at"][:19]) if key["revoked_at"] else Operator.KEY_VALID
        click.echo(f"{key['id']}  {key['scope']}  {key['name']}  {key['created_at'][:19]}  {state}")


@admin_keys.command("add")
@click.option("--scope", required=True, type=click.Choice(["bot", "operator", "partner"]))
@click.option("--name", required=True, help=f"Who holds it, e.g. {Operator.EXAMPLE_KEY_HOLDER}.")
def admin_keys_add(scope: str, name: str) -> None:
    """Issue a key; it is printed once, only its hash is kept."""
    from exchange.errors import ExchangeError
    from exchange.keys import issue_key

    try:
        row, key = issue_key(_exchange_db(), scope, name)
    except ExchangeError as error:
        raise click.ClickException(error.message) from error
    click.echo(Operator.KEY_ISSUED.format(id=row["id"], scope=scope, name=row["name"]))
    click.echo(key)


@admin_keys.command("revoke")
@click.argument("key_id")
def admin_keys_revoke(key_id: str) -> None:
    """Revoke a key at once."""
    from exchange.errors import ExchangeError
    from exchange.keys import revoke_key

    try:
        row = revoke_key(_exchange_db(), key_id)
    except ExchangeError as error:
        raise click.ClickException(error.message) from error
    click.echo(Operator.KEY_REVOKED.format(id=row["id"], scope=row["scope"], name=row["name"]))


@admin.command("purge")
@click.option("--days", type=int, default=None, help="Keep this many days. Default: KEJIBANG_RETENTION_DAYS.")
def admin_purge(days: int | None) -> None:
    """Delete conversation events (Rasa's tracker store) and answered inbox entries older than the retention period."""
    from core.retention import purge_old

    settings = _settings()
    purged = purge_old(settings, days)
    click.echo(Operator.PURGED.format(days=days if days is not None else settings.retention_days,
                                      events=purged.events, updates=purged.updates))


@admin.command("seed")
def admin_seed() -> None:
    """Load the sample experts and articles into an empty exchange."""
    from exchange.importer import seed_sample

    reports = seed_sample(_exchange(_settings()))
    click.echo("; ".join(f"{r.kind}: {r.created}" for r in reports) or Operator.NOTHING_SEEDED)


@main.group()
def bench() -> None:
    """Benchmarks (print tables, save JSON under bench/results/)."""


@bench.command("matching")
@click.option("--quick", is_flag=True, help="Quality only, no scale runs.")
def bench_matching(quick: bool) -> None:
    """Matcher quality on the dev set vs a BM25 baseline, and speed at scale."""
    from bench.matching import main as run_bench

    run_bench(quick=quick)


@bench.command("experts")
def bench_experts() -> None:
    """Simulated needs and experts: share of needs reaching help, time to accept, fairness (Gini)."""
    from bench.experts import main as run_bench

    run_bench()


@bench.command("e2e")
def bench_e2e() -> None:
    """Message → reply latency and messages/s through the Bot API emulator at 1, 10, 50 users."""
    from bench.e2e import main as run_bench

    run_bench()


@bench.command("wechat")
def bench_wechat() -> None:
    """WeChat latency, signed POST → customer-service call, and messages/s at 1 and 10 users."""
    from bench.wechat import main as run_bench

    run_bench()


@bench.command("turn")
def bench_turn() -> None:
    """Where one turn's time goes: wall and CPU per stage, CPU per turn, and a flame graph."""
    from bench.turn import main as run_bench

    run_bench()


@bench.command("capacity")
def bench_capacity() -> None:
    """One production Rasa server (PostgreSQL tracker, Redis locks, action server): messages/s and memory."""
    from bench.capacity import main as run_bench

    run_bench()


@bench.command("storage")
def bench_storage() -> None:
    """Import 250 k experts, fill to 3.45 M users and 254 k needs, time the reads a turn makes."""
    from bench.storage import main as run_bench

    run_bench()


@bench.command("nlu")
@click.option("--current", is_flag=True, help="score the trained model only (no encoder probe, no baselines)")
def bench_nlu(current: bool) -> None:
    """Intent accuracy and macro-F1 on the separate test file, vs a stock baseline; latency and timings."""
    from bench import nlu

    nlu.current() if current else nlu.main()


if __name__ == "__main__":
    main()
