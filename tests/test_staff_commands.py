"""The one registry of staff commands (desks/commands.py) is what the desks, the channels and the rate limit use."""

from __future__ import annotations

import dataclasses
import inspect
from types import SimpleNamespace

from telegram.ext import CommandHandler

from channels.telegram import PRIVATE, build_application
from desks.commands import COMMANDS, DESKS, command_of
from kejibang.app import Router
from kejibang.settings import Settings
from store.roles import ROLES


def test_every_command_is_answered_by_a_real_desk_method() -> None:
    for command in COMMANDS:
        method = getattr(DESKS[command.desk], command.method, None)
        assert method is not None and inspect.iscoroutinefunction(method), command.name
        inspect.signature(method).bind(None, "telegram:1", "12")  # called as method(sender_id, argument)


def test_the_registry_is_well_formed() -> None:
    names = [command.name for command in COMMANDS]
    assert len(names) == len(set(names)), "each command once"
    assert all(name.startswith("/") and name[1:].isidentifier() for name in names)
    assert all(command.exempt_role in (None, *ROLES) for command in COMMANDS), "exempt roles are real roles"
    assert all(command.description.strip() and "\n" not in command.description for command in COMMANDS)
    in_group = {c.name for c in COMMANDS if c.in_group}
    assert in_group == {"/queue", "/claim", "/done"}, "only commands whose answers the whole group may read"
    assert command_of("/claim 12").method == "claim" and command_of("/claimx 12") is None and command_of("") is None


def _registered(application, group: bool) -> set[str]:
    """The commands the application's CommandHandlers answer in the volunteers' group or in private chats."""
    handlers = [h for h in application.handlers[0] if isinstance(h, CommandHandler)]
    return {name for h in handlers if (h.filters is not PRIVATE) == group for name in h.commands}


def test_telegram_registers_exactly_the_registry_s_commands() -> None:
    settings = dataclasses.replace(Settings.from_env(), telegram_token="123:test", telegram_api_url="",
                                   volunteer_chat="telegram:-100200")
    application = build_application(SimpleNamespace(settings=settings, router=Router(), payloads=None))
    extra = {"start", "help", "cancel"}  # the dialogue's own commands, not staff commands
    assert _registered(application, group=False) - extra == {c.bare for c in COMMANDS}
    assert _registered(application, group=True) - {"help"} == {c.bare for c in COMMANDS if c.in_group}
