"""`kejibang bench experts`: does every need reach someone who helps, and is the work shared fairly?

A discrete-event simulation over the sample content and the real exchange (in-process, SQLite): needs
from bench/data/needs_dev.jsonl arrive over simulated days; the farmer presses 联系TA on the first
expert card; each expert has a declared capacity and a random behaviour (accepts, declines, passes it
on, or stays silent until reminded or timed out); the exchange hands declined and timed-out needs to
the next-best expert and, when nobody is left, to the volunteers. Accepted needs end with the farmer's
answer a few days later, which frees the expert's slot.

Printed, with and without the fairness rule (the least-loaded of near-equal experts first): the share
of needs that reach an accepting expert or a volunteer, and within 48 hours (two answer windows), the median time to the
first accept, the Gini coefficient of accepted needs per expert, and the peak load against capacity.
"""

from __future__ import annotations

import heapq
import json
import random
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from bench.report import save, table
from exchange.errors import InputRejected
from exchange.importer import seed_sample
from exchange.models import Expert
from exchange.service import ExchangeService

DATA = Path(__file__).resolve().parent / "data" / "needs_dev.jsonl"
HOUR = 1.0
REMIND_AFTER, ANSWER_WITHIN, FOLLOW_UP_AFTER = 12 * HOUR, 24 * HOUR, 72 * HOUR
WITHIN = 2 * ANSWER_WITHIN  # the first expert's window, and the next one's after a time-out
DAYS, NEEDS = 20, 1000
SEED = 7


class ScoreOnlyExchange(ExchangeService):
    """The exchange with the fairness rule switched off: experts ranked by score alone."""

    def _load(self, expert_id: str) -> int:
        return 0  # every expert equally loaded: the best score always goes first


@dataclass
class Behaviour:
    """How one simulated expert answers: probabilities and typical delay (hours)."""

    accept: float
    decline: float
    silent: float
    delay: float
    capacity: int


@dataclass
class Run:
    """What happened to every need in one simulation."""

    first_accept: dict[str, float] = field(default_factory=dict)
    reached_volunteers: set[str] = field(default_factory=set)
    posted: dict[str, float] = field(default_factory=dict)
    accepted_by: dict[str, int] = field(default_factory=dict)
    active: dict[str, int] = field(default_factory=dict)
    over_capacity: int = 0
    peak_share: float = 0.0


def _behaviours(expert_ids: list[str], rng: random.Random) -> dict[str, Behaviour]:
    """Most experts answer within hours, a few are slow or mostly silent; capacities 1 to 5."""
    behaviours = {}
    for expert_id in expert_ids:
        silent = rng.choice((0.05, 0.1, 0.2, 0.5))
        decline = rng.uniform(0.05, 0.25)
        behaviours[expert_id] = Behaviour(1 - silent - decline, decline, silent, rng.choice((1, 3, 6, 10)),
                                          rng.randint(1, 5))
    return behaviours


def _arrivals(rng: random.Random) -> list[tuple[float, dict]]:
    needs = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    return sorted((rng.uniform(0, DAYS * 24), needs[i % len(needs)]) for i in range(NEEDS))


def simulate(exchange: ExchangeService, rng: random.Random) -> Run:
    """Play the arrivals through the exchange; returns what became of each need."""
    behaviours = _behaviours(_all_expert_ids(exchange), rng)
    for expert_id, behaviour in behaviours.items():
        exchange.set_expert_availability(expert_id, {"capacity": behaviour.capacity})
    run, events, order = Run(), [], 0

    def later(at: float, kind: str, payload: dict) -> None:
        nonlocal order
        order += 1
        heapq.heappush(events, (at, order, kind, payload))

    def offered(at: float, request: dict | None, need_id: str) -> None:
        if request is None:
            run.reached_volunteers.add(need_id)
            return
        expert_id = request["expert_id"]
        run.active[expert_id] = run.active.get(expert_id, 0) + 1
        if run.active[expert_id] > behaviours[expert_id].capacity:
            run.over_capacity += 1
        run.peak_share = max(run.peak_share, run.active[expert_id] / behaviours[expert_id].capacity)
        behaviour, roll = behaviours[expert_id], rng.random()
        if roll < behaviour.silent:
            answers_after = REMIND_AFTER + rng.uniform(0, 24) if rng.random() < 0.3 else None
            if answers_after is None or answers_after >= ANSWER_WITHIN:
                later(at + ANSWER_WITHIN, "timeout", request)
            else:
                later(at + answers_after, "accept", request)
        else:
            kind = "decline" if roll < behaviour.silent + behaviour.decline else "accept"
            later(at + min(rng.expovariate(1 / behaviour.delay), ANSWER_WITHIN - 1), kind, request)

    for at, need in _arrivals(rng):
        later(at, "need", need)
    while events:
        at, _, kind, payload = heapq.heappop(events)
        if kind == "need":
            created = exchange.create_need({"text": payload["text"], "region": payload.get("region", "")})
            run.posted[created["id"]] = at
            experts = created["match"]["experts"]
            if not experts:
                run.reached_volunteers.add(created["id"])
                continue
            try:
                offered(at, exchange.request_contact(created["id"], experts[0]["id"]), created["id"])
            except InputRejected:
                run.reached_volunteers.add(created["id"])
            continue
        expert_id, need_id = payload["expert_id"], payload["need_id"]
        if kind == "outcome":
            run.active[expert_id] -= 1
            exchange.record_outcome(payload["id"], "resolved" if rng.random() < 0.8 else "not_yet")
            continue
        answer = {"accept": "accept", "decline": rng.choice(("decline", "pass")), "timeout": "timeout"}[kind]
        step = exchange.answer_contact(payload["id"], answer)
        if answer == "accept":
            run.first_accept.setdefault(need_id, at - run.posted[need_id])
            run.accepted_by[expert_id] = run.accepted_by.get(expert_id, 0) + 1
            later(at + FOLLOW_UP_AFTER, "outcome", payload)
        else:
            run.active[expert_id] -= 1
            offered(at, step["next"], need_id)
    return run


def _all_expert_ids(exchange: ExchangeService) -> list[str]:
    with exchange.db.transaction() as session:
        return list(session.execute(select(Expert.id)).scalars())


def gini(values: list[int]) -> float:
    """0 when every expert has the same number of needs, towards 1 when a few have them all."""
    ordered = sorted(values)
    total = sum(ordered)
    if not ordered or total == 0:
        return 0.0
    weighted = sum((index + 1) * value for index, value in enumerate(ordered))
    return (2 * weighted) / (len(ordered) * total) - (len(ordered) + 1) / len(ordered)


def figures(run: Run, expert_count: int) -> dict:
    """The simulation's headline figures."""
    reached = set(run.first_accept) | run.reached_volunteers
    waits = sorted(run.first_accept.values())
    per_expert = list(run.accepted_by.values()) + [0] * (expert_count - len(run.accepted_by))
    in_time = {n for n, hours in run.first_accept.items() if hours <= WITHIN} | run.reached_volunteers
    return {"needs": len(run.posted), "reached_share": len(reached) / len(run.posted),
            "reached_in_time_share": len(in_time) / len(run.posted),
            "accepted_share": len(run.first_accept) / len(run.posted),
            "volunteer_share": len(run.reached_volunteers - set(run.first_accept)) / len(run.posted),
            "median_hours_to_accept": statistics.median(waits) if waits else float("nan"),
            "gini_accepted": gini(per_expert), "experts_with_work": sum(1 for v in per_expert if v),
            "max_accepted_by_one": max(per_expert), "over_capacity": run.over_capacity,
            "peak_load_share": run.peak_share}


def _one(kind: type[ExchangeService], seeded: Path, folder: Path) -> dict:
    path = folder / f"{kind.__name__}.db"
    path.write_bytes(seeded.read_bytes())
    exchange = kind(f"sqlite:///{path}")
    try:
        run = simulate(exchange, random.Random(SEED))
        return figures(run, len(_all_expert_ids(exchange)))
    finally:
        exchange.close()


def main() -> None:
    """Run the simulation with and without the fairness rule and print the comparison."""
    with tempfile.TemporaryDirectory() as folder:
        seeded = Path(folder) / "seed.db"
        seed_sample(ExchangeService(f"sqlite:///{seeded}"), show_progress=False)
        results = {"with fairness": _one(ExchangeService, seeded, Path(folder)),
                   "score only": _one(ScoreOnlyExchange, seeded, Path(folder))}
    headers = ["ranking", "needs", "reached", f"in {WITHIN:.0f} h", "accepted", "to volunteers", "median h to accept", "Gini",
               "experts with work", "max by one", "over capacity"]
    rows = [[name, r["needs"], r["reached_share"], r["reached_in_time_share"], r["accepted_share"], r["volunteer_share"],
             r["median_hours_to_accept"], r["gini_accepted"], r["experts_with_work"], r["max_accepted_by_one"],
             r["over_capacity"]] for name, r in results.items()]
    print(f"{NEEDS} needs over {DAYS} days; answer within {ANSWER_WITHIN:.0f} h (reminder at {REMIND_AFTER:.0f} h)")
    print(table(headers, rows))
    print(f"saved to {save('experts', results)}")
