"""The one registry of staff commands: which desk answers each, who may send it unlimited, where it works.

Why one table: the channels register these names with their apps (Telegram's command handlers, the
volunteers' group), the rate limit lets a role's holders send their own commands unlimited, and the core
dispatches each to its desk's method. Kept in three places, the lists drifted apart; here a command is
added once. ``tests/test_staff_commands.py`` checks that every entry names a real desk method.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.texts import Chair, Expert, Staff, Volunteer
from desks.chairs import Chairs
from desks.experts import ExpertDesk
from desks.volunteers import Desk

# the desks by the name the registry uses; the core holds one of each
DESKS: dict[str, type] = {"volunteers": Desk, "chairs": Chairs, "experts": ExpertDesk}


@dataclass(frozen=True)
class StaffCommand:
    """One command as typed (``/claim 12``): its desk's method is called with the sender and the rest."""

    name: str  # with its slash: "/claim"
    desk: str  # a key of DESKS
    method: str  # the desk's method, called as method(sender_id, argument)
    exempt_role: str | None  # holders of this role are never rate-limited for it; None: it counts like anything
    in_group: bool  # also works in the volunteers' group (its answer is fit for everyone there to read)
    description: str  # one line for help and menus, after the command: "/claim 案件号 接手"

    @property
    def bare(self) -> str:
        """The name without its slash, as apps register commands ("claim")."""
        return self.name.lstrip("/")


COMMANDS: tuple[StaffCommand, ...] = (
    StaffCommand("/role", "volunteers", "redeem", None, False, Staff.HELP_ROLE),
    StaffCommand("/queue", "volunteers", "queue", "volunteer", True, Volunteer.HELP_QUEUE),
    StaffCommand("/claim", "volunteers", "claim", "volunteer", True, Volunteer.HELP_CLAIM),
    StaffCommand("/done", "volunteers", "done", "volunteer", True, Volunteer.HELP_DONE),
    StaffCommand("/invite", "chairs", "invite", "chair", False, Chair.HELP_INVITE),
    StaffCommand("/stats", "chairs", "stats", "chair", False, Chair.HELP_STATS),
    StaffCommand("/onboard", "chairs", "onboard", "chair", False, Chair.HELP_ONBOARD),
    StaffCommand("/onboard_confirm", "chairs", "onboard_confirm", "chair", False, Chair.HELP_ONBOARD_CONFIRM),
    StaffCommand("/mine", "experts", "mine", "expert", False, Expert.HELP_MINE),
    StaffCommand("/pause", "experts", "pause", "expert", False, Expert.HELP_PAUSE),
    StaffCommand("/resume", "experts", "resume", "expert", False, Expert.HELP_RESUME),
    StaffCommand("/capacity", "experts", "capacity", "expert", False, Expert.HELP_CAPACITY),
    StaffCommand("/serve", "experts", "serve", "expert", False, Expert.HELP_SERVE),
    StaffCommand("/accept", "experts", "accept", "expert", False, Expert.HELP_ACCEPT),
    StaffCommand("/pass", "experts", "pass_on", "expert", False, Expert.HELP_PASS),
    StaffCommand("/decline", "experts", "decline", "expert", False, Expert.HELP_DECLINE),
    StaffCommand("/talk", "experts", "talk", "expert", False, Expert.HELP_TALK),
    StaffCommand("/end", "experts", "end", "expert", False, Expert.HELP_END),
    # the farmer's answer to "解决了吗？" (a button under an expert's case): anyone's, so it counts
    StaffCommand("/outcome", "experts", "outcome", None, False, Expert.HELP_OUTCOME),
)
_BY_NAME = {command.name: command for command in COMMANDS}


def command_of(text: str) -> StaffCommand | None:
    """The registered command a message starts with ("/claim 12" → /claim), or None."""
    words = text.split(maxsplit=1)
    return _BY_NAME.get(words[0]) if words else None


def bare_names(in_group: bool = False) -> tuple[str, ...]:
    """The names apps register (without slashes): all of them, or those that work in the volunteers' group."""
    return tuple(command.bare for command in COMMANDS if command.in_group or not in_group)


def group_help() -> str:
    """The commands of the volunteers' group, as its /help lists them."""
    return "，".join(f"{command.name} {command.description}" for command in COMMANDS if command.in_group)
