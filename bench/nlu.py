"""`kejibang bench nlu`: intent accuracy and macro-F1 on a test file written apart from the training
data, for the project's pipeline and a stock baseline side by side; parse latency; training and
model load time.

Baseline: Rasa's default Chinese recipe without the project's dictionary and tuning (JiebaTokenizer
with jieba's own dictionary, word counts, DIET with default settings).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

from bench.report import percentile, save, table
from kejibang.settings import PROJECT_ROOT

TEST_FILE = Path(__file__).resolve().parent / "data" / "nlu_test.yml"
BASELINE_CONFIG = {
    "recipe": "default.v1", "assistant_id": "kejibang-baseline", "language": "zh",
    "pipeline": [{"name": "JiebaTokenizer"}, {"name": "CountVectorsFeaturizer"},
                 {"name": "DIETClassifier", "epochs": 100, "random_seed": 2026}, {"name": "EntitySynonymMapper"}],
    "policies": [],
}


def test_examples(path: Path = TEST_FILE) -> list[tuple[str, str]]:
    """(text, gold intent) pairs of the separate test file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = []
    for block in data["nlu"]:
        if "intent" in block:
            for line in block["examples"].splitlines():
                text = line.strip().removeprefix("- ").strip()
                if text:
                    pairs.append((text, block["intent"]))
    return pairs


def train_nlu(config: Path, out: Path, name: str) -> tuple[Path, float]:
    """Train an NLU-only model with a config; returns the model path and seconds taken."""
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rasa", "train", "nlu", "--config", str(config), "--nlu", "nlu",
                    "--out", str(out), "--fixed-model-name", name], cwd=PROJECT_ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return out / f"{name}.tar.gz", time.perf_counter() - started


async def evaluate(model: Path, examples: list[tuple[str, str]]) -> dict:
    """Load a model, parse every example, and score intents."""
    from rasa.core.agent import Agent
    from sklearn.metrics import f1_score

    started = time.perf_counter()
    agent = Agent.load(str(model))
    load_s = time.perf_counter() - started
    predicted, latencies = [], []
    for text, _ in examples:
        t0 = time.perf_counter()
        parsed = await agent.parse_message(text)
        latencies.append((time.perf_counter() - t0) * 1000)
        predicted.append(parsed["intent"]["name"])
    gold = [intent for _, intent in examples]
    labels = sorted(set(gold))
    per_intent = f1_score(gold, predicted, labels=labels, average=None, zero_division=0)
    confusions = Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    return {
        "accuracy": sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold),
        "macro_f1": float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)),
        "per_intent_f1": dict(zip(labels, map(float, per_intent), strict=True)),
        "confusions": [{"gold": g, "predicted": p, "count": c} for (g, p), c in confusions.most_common(10)],
        "parse_p50_ms": percentile(latencies, 0.5), "parse_p95_ms": percentile(latencies, 0.95),
        "load_s": load_s,
    }


def main() -> dict:
    """Train both pipelines, evaluate them on the test file, print tables, save bench/results/nlu.json."""
    examples = test_examples()
    print(f"测试集：{len(examples)} 条，{len(set(i for _, i in examples))} 个意图（与训练数据分开编写）")
    figures: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        baseline_config = Path(tmp) / "baseline.yml"
        baseline_config.write_text(yaml.safe_dump(BASELINE_CONFIG, allow_unicode=True), encoding="utf-8")
        for system, config in (("kejibang", PROJECT_ROOT / "config.yml"), ("baseline", baseline_config)):
            model, train_s = train_nlu(config, Path(tmp), system)
            figures[system] = {"train_s": train_s, **asyncio.run(evaluate(model, examples))}
    print(table(["system", "accuracy", "macro-F1", "parse p50 ms", "parse p95 ms", "train s", "load s"],
                [[s, f["accuracy"], f["macro_f1"], f["parse_p50_ms"], f["parse_p95_ms"], f["train_s"], f["load_s"]]
                 for s, f in figures.items()]))
    ours, base = figures["kejibang"]["per_intent_f1"], figures["baseline"]["per_intent_f1"]
    print("\n" + table(["intent", "F1 kejibang", "F1 baseline"], [[i, ours[i], base.get(i, 0.0)] for i in ours]))
    print("\n最常见的混淆（kejibang）：")
    print(table(["gold", "predicted", "count"],
                [[c["gold"], c["predicted"], c["count"]] for c in figures["kejibang"]["confusions"]]))
    print(f"\n保存：{save('nlu', figures)}")
    return figures
