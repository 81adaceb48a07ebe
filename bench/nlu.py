"""`kejibang bench nlu`: how well the assistant reads messages, before and after, on three dev sets.

- **Realistic dev set** (``bench/data/farmer_dev``): share of real-shaped farm questions read as a
  need, intent macro-F1 and accuracy, and the remaining confusions.
- **Realistic hold-out set** (``bench/data/farmer_holdout``): the same, on a set written after the
  tuning by another hand and never tuned on: the honest figures.
- **Fresh set** (``bench/data/farmer_fresh``): every intent in farmers' wordings, by a hand that saw
  neither the training data nor the other sets; never tuned on.
- **Unseen set** (``bench/data/farmer_unseen``): needs and the other intents by yet another hand, written
  on 2026-12-07 and never tuned on.
- **Test file** (``bench/data/nlu_test.yml``, written in the training data's hand): accuracy and
  macro-F1.

Systems: ``before`` (this pipeline without the sentence encoder and the need-evidence reading),
``kejibang`` (config.yml) and ``stock`` (Rasa's default Chinese recipe: jieba's own dictionary, word
counts, DIET defaults). Parse latency is measured on one core. A first table compares the sentence
encoders by a plain logistic regression on frozen embeddings trained on ``nlu/`` alone, the probe
that chose the encoder for config.yml.
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

import numpy as np
import yaml

from bench.devsets import FARMER_SETS, farmer_questions, nlu_test_examples
from bench.report import percentile, save, table
from kejibang.settings import PROJECT_ROOT

NEED = "describe_need"
NEW_COMPONENTS = ("understanding.featurizer.SentenceEncoderFeaturizer", "understanding.need_evidence.NeedEvidenceClassifier")
STOCK_CONFIG = {
    "recipe": "default.v1", "assistant_id": "kejibang-stock", "language": "zh",
    "pipeline": [{"name": "JiebaTokenizer"}, {"name": "CountVectorsFeaturizer"},
                 {"name": "DIETClassifier", "epochs": 100, "random_seed": 2026}, {"name": "EntitySynonymMapper"}],
    "policies": [],
}


def training_examples() -> list[tuple[str, str]]:
    """(text, intent) of every NLU training example (entity markup removed, as Rasa reads it)."""
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    data = TrainingData().merge(*(load_data(str(p)) for p in sorted((PROJECT_ROOT / "nlu").glob("*.yml"))))
    return [(e.get("text"), e.get("intent")) for e in data.intent_examples]


def scores(gold: list[str], predicted: list[str]) -> dict:
    """Accuracy, macro-F1 over the gold intents, share of gold needs read as needs, confusions."""
    from sklearn.metrics import f1_score

    labels = sorted(set(gold))
    pairs = list(zip(gold, predicted, strict=True))
    needs = [p for g, p in pairs if g == NEED]
    return {
        "accuracy": sum(g == p for g, p in pairs) / len(pairs),
        "macro_f1": float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)),
        "need_rate": sum(p == NEED for p in needs) / len(needs) if needs else float("nan"),
        "per_intent_f1": dict(zip(labels, map(float, f1_score(gold, predicted, labels=labels, average=None,
                                                              zero_division=0)), strict=True)),
        "confusions": [{"gold": g, "predicted": p, "count": c}
                       for (g, p), c in Counter((g, p) for g, p in pairs if g != p).most_common(12)],
    }


def encoder_probe(train: list[tuple[str, str]], sets: dict[str, list[tuple[str, str]]]) -> list[dict]:
    """Logistic regression on frozen sentence vectors of each encoder (and both joined)."""
    from sklearn.linear_model import LogisticRegression

    from exchange.matching import encoder

    rows = []
    for names in ([n] for n in encoder.names()), [list(encoder.names())]:
        for chosen in names:
            embed = _joined([encoder.load(n) for n in chosen])
            classifier = LogisticRegression(max_iter=3000, C=10.0).fit(embed([t for t, _ in train]),
                                                                        [i for _, i in train])
            row: dict = {"features": "+".join(chosen)}
            for name, pairs in sets.items():
                result = scores([i for _, i in pairs], list(classifier.predict(embed([t for t, _ in pairs]))))
                row[f"{name}_macro_f1"], row[f"{name}_need_rate"] = result["macro_f1"], result["need_rate"]
            started = time.perf_counter()
            for text, _ in sets["realistic"][:200]:
                embed([text])
            row["ms_per_text"] = (time.perf_counter() - started) * 1000 / min(200, len(sets["realistic"]))
            rows.append(row)
    return rows


def _joined(models: list) -> callable:
    """One embedding function from one or more encoders (their vectors side by side)."""
    return lambda texts: np.hstack([m.embed(texts) for m in models])


def train_nlu(config: Path, out: Path, name: str) -> tuple[Path, float]:
    """Train an NLU-only model with a config; returns the model path and seconds taken."""
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rasa", "train", "nlu", "--config", str(config), "--nlu", "nlu",
                    "--out", str(out), "--fixed-model-name", name], cwd=PROJECT_ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return out / f"{name}.tar.gz", time.perf_counter() - started


async def evaluate(model: Path, sets: dict[str, list[tuple[str, str]]]) -> dict:
    """Load a model, parse every example of every set on one core, and score the intents."""
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})  # parse latency on one core (training used them all)
    try:
        return await _evaluate(model, sets)
    finally:
        os.sched_setaffinity(0, cores)


async def _evaluate(model: Path, sets: dict[str, list[tuple[str, str]]]) -> dict:
    from kejibang.launcher import quiet_rasa_structlog
    from rasa_plugins.model_loading import load_agent

    quiet_rasa_structlog("WARNING")  # Rasa's debug lines would print every evaluation text
    started = time.perf_counter()
    agent = load_agent(str(model))
    figures: dict = {"load_s": time.perf_counter() - started}
    latencies = []
    for name, pairs in sets.items():
        predicted = []
        for text, _ in pairs:
            t0 = time.perf_counter()
            parsed = await agent.parse_message(text)
            latencies.append((time.perf_counter() - t0) * 1000)
            predicted.append(parsed["intent"]["name"])
        figures[name] = scores([i for _, i in pairs], predicted)
    figures["parse_p50_ms"], figures["parse_p95_ms"] = percentile(latencies, 0.5), percentile(latencies, 0.95)
    return figures


def _configs(folder: Path) -> dict[str, Path]:
    """config.yml, the same without the new components ("before"), and the stock recipe."""
    ours = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    before = {**ours, "pipeline": [c for c in ours["pipeline"] if c["name"] not in NEW_COMPONENTS]}
    paths = {"kejibang": PROJECT_ROOT / "config.yml"}
    for name, config in (("before", before), ("stock", STOCK_CONFIG)):
        paths[name] = folder / f"{name}.yml"
        paths[name].write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return paths


def evaluation_sets() -> dict[str, list[tuple[str, str]]]:
    """(text, gold intent) of every set, none of them in the training data (tests/test_nlu_data.py)."""
    sets = {("realistic" if name == "dev" else name): [(q.text, q.intent) for q in farmer_questions(folder)]
            for name, folder in FARMER_SETS.items()}
    sets["test_file"] = nlu_test_examples()
    print("；".join(f"{name}：{len(pairs)} 条（其中需求 {sum(i == NEED for _, i in pairs)} 条）"
                   for name, pairs in sets.items()) + "。都不在训练数据里。")
    return sets


def print_scores(figures: dict, systems: tuple[str, ...], sets: dict) -> None:
    """The systems' table and the current pipeline's commonest confusions on each set."""
    columns = [(name, figure) for name in sets for figure in ("need_rate", "macro_f1")]
    print("\n" + table(["system"] + [f"{name} {figure.replace('_rate', '').replace('_', '-')}" for name, figure in columns]
                       + ["parse p50 ms", "parse p95 ms", "train s", "load s"],
                       [[s] + [f[name][figure] for name, figure in columns]
                        + [f["parse_p50_ms"], f["parse_p95_ms"], f.get("train_s", ""), f["load_s"]]
                        for s, f in figures.items() if s in systems]))
    for name in sets:
        print(f"\n最常见的混淆（kejibang，{name}）：")
        print(table(["gold", "predicted", "count"],
                    [[c["gold"], c["predicted"], c["count"]] for c in figures["kejibang"][name]["confusions"]]))


def current() -> dict:
    """Score the trained model of the current training inputs only (no probe, no training): minutes, not an hour."""
    from kejibang import model
    from kejibang.settings import Settings

    sets = evaluation_sets()
    figures = {"kejibang": asyncio.run(evaluate(model.train(Settings.from_env().model_dir), sets))}
    print_scores(figures, ("kejibang",), sets)
    print(f"\n保存：{save('nlu_current', figures)}")
    return figures


def main(systems: tuple[str, ...] = ("before", "kejibang", "stock")) -> dict:
    """Probe the encoders, train each pipeline, evaluate on every set, print tables, save JSON."""
    sets = evaluation_sets()
    figures: dict = {"encoders": encoder_probe(training_examples(), sets)}
    print("\n句向量探针（只用 nlu/ 训练的逻辑回归，冻结的向量）：")
    print(table(["features", "realistic need rate", "realistic macro-F1", "hold-out need rate",
                 "hold-out macro-F1", "test-file macro-F1", "ms/text"],
                [[r["features"], r["realistic_need_rate"], r["realistic_macro_f1"], r["holdout_need_rate"],
                  r["holdout_macro_f1"], r["test_file_macro_f1"], r["ms_per_text"]] for r in figures["encoders"]]))
    with tempfile.TemporaryDirectory() as tmp:
        configs = _configs(Path(tmp))
        for system in systems:
            model, train_s = train_nlu(configs[system], Path(tmp), system)
            figures[system] = {"train_s": train_s, **asyncio.run(evaluate(model, sets))}
            print(f"  {system}: 训练 {train_s:.0f} s", flush=True)
    print_scores(figures, systems, sets)
    print(f"\n保存：{save('nlu', figures)}")
    return figures
