"""`kejibang bench turn`: where one turn's time goes, stage by stage, through the whole stack.

One person at a time sends the e2e conversations (hello, a need from the dev set, a yes) through the
Telegram channel, the Bot API emulator and the model loaded in-process with the custom actions beside it,
all on the embedded SQLite defaults (``bench.e2e.running_stack``). Why one at a time: a stage's
figures are then that turn's own, not a queue behind other people's turns.

- **Stages** are timed by wrapping the function that does each (``STAGES``): wall time and the CPU time of
  the thread it runs on, summed per turn. Indented rows are part of the row above them. A stage that
  awaits (the action call, the tracker store) counts in its CPU what the event loop ran meanwhile: little,
  with one person.
- **CPU per turn** of the bot process (the actions included) comes from /proc, over all turns, less the
  sampler's own.
- **Flame graph:** a sampler folds every thread's stack every ``SAMPLE_SECONDS`` into
  ``bench/results/turn.folded`` (Brendan Gregg's folded format: open it in speedscope.app or pipe it
  to flamegraph.pl).
- **A long conversation:** the e2e turns are a conversation's first ones. A second table plays one
  conversation on its own, turn after turn, and prints the CPU of a turn's tracker retrieve and save
  at ``GROWTH_TURNS`` turns into the session, with Rasa's ``SQLTrackerStore`` and with ours (which keeps
  the conversation it saved last instead of reading and replaying the session each turn).
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.e2e import DRAIN_SECONDS, Stack, conversations, running_stack
from bench.report import RESULTS, percentile, save, table

CONVERSATIONS = 20  # 60 turns: enough for a p95 of each stage, a minute or two of running
SAMPLE_SECONDS = 0.005
GROWTH_TURNS = (10, 30, 60)


@dataclass(frozen=True)
class Stage:
    """A part of a turn: the function that does it (``module:Class.method`` or ``module:function``)."""

    label: str
    target: str
    skip: Callable[..., bool] | None = None  # calls not counted (e.g. the channel's long poll)


def _not_a_reply(self, url: str, *args, **kwargs) -> bool:
    """The Telegram channel's long poll for updates is waiting, not the turn's I/O."""
    return url.endswith("getUpdates")


STAGES = (
    Stage("inbox (update kept, then marked done)", "store.inbox:Inbox.receive"),
    Stage("inbox (update kept, then marked done)", "store.inbox:Inbox.processed"),
    Stage("phone masking", "core.assistant:mask_phones"),
    Stage("dialogue turn (Rasa, all of it)", "rasa.core.agent:Agent.handle_message"),
    Stage("  NLU (jieba, DIET, need evidence)", "rasa.core.processor:MessageProcessor.parse_message"),
    Stage("    sentence encoder", "understanding.featurizer:SentenceEncoderFeaturizer.process"),
    Stage("  policies", "rasa.core.processor:MessageProcessor._predict_next_with_tracker"),
    Stage("  custom actions (in-process)", "rasa.core.actions.action:RemoteAction.run"),
    Stage("  tracker load", "rasa.core.tracker_store:SQLTrackerStore.retrieve"),
    Stage("  tracker load", "rasa.core.tracker_store:SQLTrackerStore.retrieve_full_tracker"),
    Stage("  tracker save", "rasa.core.tracker_store:SQLTrackerStore.save"),
    Stage("database commits (any store, this process)", "sqlalchemy.orm.session:Session.commit"),
    Stage("channel I/O (Bot API calls)", "channels.telegram_http:AiohttpRequest.do_request", _not_a_reply),
)


@dataclass(frozen=True)
class Call:
    """One timed call of a stage."""

    stage: str
    started: float
    wall: float
    cpu: float


@dataclass
class Recorder:
    """The timed calls of every stage, and how to undo the wrapping."""

    calls: list[Call] = field(default_factory=list)
    restore: list[tuple[object, str, object]] = field(default_factory=list)

    def wrap(self, stage: Stage) -> None:
        """Replace the stage's function by a timed one (undone by ``unwrap``)."""
        module_name, _, path = stage.target.partition(":")
        owner: object = importlib.import_module(module_name)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        original = inspect.getattr_static(owner, name)
        self.restore.append((owner, name, original))
        setattr(owner, name, self._timed(stage, original))

    def unwrap(self) -> None:
        for owner, name, original in reversed(self.restore):
            setattr(owner, name, original)
        self.restore.clear()

    def _timed(self, stage: Stage, function: Callable) -> Callable:
        def record(started: float, cpu: float) -> None:
            self.calls.append(Call(stage.label, started, time.perf_counter() - started, time.thread_time() - cpu))

        if inspect.iscoroutinefunction(function):
            @functools.wraps(function)
            async def timed_async(*args, **kwargs):
                if stage.skip and stage.skip(*args, **kwargs):
                    return await function(*args, **kwargs)
                started, cpu = time.perf_counter(), time.thread_time()
                try:
                    return await function(*args, **kwargs)
                finally:
                    record(started, cpu)
            return timed_async

        @functools.wraps(function)
        def timed(*args, **kwargs):
            if stage.skip and stage.skip(*args, **kwargs):
                return function(*args, **kwargs)
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                record(started, cpu)
        return timed


class Sampler(threading.Thread):
    """Every thread's stack, folded and counted every ``SAMPLE_SECONDS`` (a sampling profiler)."""

    def __init__(self) -> None:
        super().__init__(name="turn-sampler", daemon=True)
        self.stacks: Counter[str] = Counter()
        self._finished = threading.Event()
        self.cpu_seconds = 0.0  # its own CPU, known once stopped: this bench's cost, not the bot's

    def run(self) -> None:
        names = {}
        while not self._finished.wait(SAMPLE_SECONDS):
            for thread_id, frame in sys._current_frames().items():
                if thread_id == self.ident:
                    continue
                if thread_id not in names:
                    names = {t.ident: t.name for t in threading.enumerate()}
                frames = []
                while frame is not None:
                    frames.append(f"{frame.f_code.co_name} ({frame.f_globals.get('__name__', '?')})")
                    frame = frame.f_back
                self.stacks[";".join([names.get(thread_id, "thread"), *reversed(frames)])] += 1
        self.cpu_seconds = time.thread_time()

    def stop(self) -> None:
        self._finished.set()
        self.join()


    def folded(self) -> str:
        return "\n".join(f"{stack} {count}" for stack, count in self.stacks.most_common()) + "\n"


async def _turn(stack: Stack, chat: int, text: str) -> tuple[float, float, float]:
    """Send one message and wait for the whole answer: (start, end, first reply latency in ms). The user
    acts on the emulator's own loop (``bench.e2e.UsersLoop``), as in `kejibang bench e2e`."""
    return await stack.users.run(_user_turn(stack.emulator, chat, text))


async def _user_turn(emulator, chat: int, text: str) -> tuple[float, float, float]:
    started = time.perf_counter()
    update_id = emulator.user_sends(chat, text)["update_id"]
    await emulator.wait_until(lambda: emulator.reply_latency(update_id) is not None, timeout=60)
    while True:  # the turn's further replies (expert cards, articles) follow within milliseconds
        try:
            await emulator.wait_for_message(chat, timeout=DRAIN_SECONDS)
        except TimeoutError:
            break
    return started, time.perf_counter() - DRAIN_SECONDS, emulator.reply_latency(update_id) * 1000


async def measure() -> dict:
    """Run the conversations one person at a time, wrapped and sampled; figures per stage and per turn.

    The stages are wrapped before the model loads: Rasa's graph keeps each component's bound method
    from then on (the sentence encoder's would otherwise never be seen), and the warm-up's calls are
    dropped."""
    recorder = Recorder()
    for stage in STAGES:
        recorder.wrap(stage)
    try:
        async with running_stack() as stack:
            scripts = conversations()
            for text in scripts[0]:  # warm-up: the first turn of each kind builds caches
                await _turn(stack, 699_999, text)
            recorder.calls.clear()
            sampler = Sampler()
            sampler.start()
            cpu = stack.cpu_seconds()
            turns = []
            try:
                for number, script in enumerate(scripts[1:CONVERSATIONS + 1]):
                    for text in script:
                        turns.append(await _turn(stack, 690_000 + number, text))
            finally:
                sampler.stop()
                cpu = stack.cpu_seconds() - cpu - sampler.cpu_seconds
    finally:
        recorder.unwrap()
    (RESULTS / "turn.folded").parent.mkdir(parents=True, exist_ok=True)
    (RESULTS / "turn.folded").write_text(sampler.folded(), encoding="utf-8")
    return {"turns": len(turns), "stages": _stages(recorder.calls, turns),
            "first_reply_ms": {"p50": percentile([t[2] for t in turns], 0.5),
                               "p95": percentile([t[2] for t in turns], 0.95)},
            "cpu_ms_per_turn": cpu * 1000 / len(turns)}


def _stages(calls: list[Call], turns: list[tuple[float, float, float]]) -> list[dict]:
    """Per stage: calls per turn, and p50/p95 of its wall and CPU milliseconds summed over each turn."""
    rows = []
    for label in dict.fromkeys(stage.label for stage in STAGES):
        per_turn = [[c for c in calls if c.stage == label and start <= c.started < end] for start, end, _ in turns]
        walls = [sum(c.wall for c in turn) * 1000 for turn in per_turn]
        cpus = [sum(c.cpu for c in turn) * 1000 for turn in per_turn]
        rows.append({"stage": label, "calls_per_turn": sum(map(len, per_turn)) / len(turns),
                     "wall_p50_ms": percentile(walls, 0.5), "wall_p95_ms": percentile(walls, 0.95),
                     "cpu_p50_ms": percentile(cpus, 0.5), "cpu_p95_ms": percentile(cpus, 0.95)})
    return rows


async def _store_cpu_ms(store, turns: int) -> float:
    """Mean CPU of retrieve + save over the last ten of ``turns`` turns of one conversation (a need's
    read-back turn each: the user's message, the action, its reply, a slot, listening again)."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker.from_events("bench:1", [ActionExecuted("action_session_start", timestamp=1),
                                                           SessionStarted(timestamp=1.5)], store.domain.slots)
    await store.save(tracker)
    spent: list[float] = []
    for at in range(10, 10 + turns):
        started = time.process_time()
        tracker = await store.retrieve("bench:1")
        for event in (UserUttered("猪不吃食", {"name": "describe_need", "confidence": 0.9}, timestamp=at),
                      ActionExecuted("action_read_back_need", timestamp=at + 0.1),
                      BotUttered("收到", timestamp=at + 0.2), SlotSet("pending", "confirm_need", timestamp=at + 0.3),
                      ActionExecuted("action_listen", timestamp=at + 0.4)):
            tracker.update(event)
        await store.save(tracker)
        spent.append(time.process_time() - started)
    return sum(spent[-10:]) / 10 * 1000


def tracker_growth() -> list[dict]:
    """A turn's tracker retrieve + save CPU as one conversation grows, Rasa's store against ours."""
    import tempfile
    from pathlib import Path

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    from kejibang.settings import PROJECT_ROOT
    from rasa_plugins.session_tracker_store import SessionSQLTrackerStore

    domain = Domain.load(str(PROJECT_ROOT / "domain"))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for turns in GROWTH_TURNS:
            row = {"turns": turns}
            for name, kind in (("rasa_ms", SQLTrackerStore), ("kejibang_ms", SessionSQLTrackerStore)):
                store = kind(domain, dialect="sqlite", db=str(Path(folder) / f"{name}-{turns}.db"))
                row[name] = asyncio.run(_store_cpu_ms(store, turns))
            rows.append(row)
    return rows


def main() -> dict:
    """Run, print the stage table, save bench/results/turn.json and turn.folded."""
    figures = asyncio.run(measure())
    figures["tracker_growth"] = tracker_growth()
    print(table(["stage", "calls/turn", "wall p50 ms", "wall p95 ms", "CPU p50 ms", "CPU p95 ms"],
                [list(row.values()) for row in figures["stages"]]))
    cpu, first = figures["cpu_ms_per_turn"], figures["first_reply_ms"]
    print(f"\n{figures['turns']} turns, one person at a time. First reply p50 {first['p50']:.1f} ms, "
          f"p95 {first['p95']:.1f} ms. CPU per turn (the whole process): {cpu:.1f} ms.")
    print("\nOne conversation, turn after turn: CPU of a turn's tracker retrieve + save (ms)")
    print(table(["turns into the session", "Rasa's SQLTrackerStore", "kejibang"],
                [list(row.values()) for row in figures["tracker_growth"]]))
    print(f"Saved: {save('turn', figures)}, flame graph {RESULTS / 'turn.folded'}")
    return figures
