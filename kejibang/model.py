"""The trained Rasa model: named by a fingerprint of its inputs, so it is trained only when they change."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from core.texts import Operator
from kejibang.settings import PROJECT_ROOT

TRAINING_INPUTS = ("config.yml", "domain", "nlu", "stories")


def _input_files() -> list[Path]:
    files: list[Path] = []
    for name in TRAINING_INPUTS:
        path = PROJECT_ROOT / name
        files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return files


def fingerprint() -> str:
    """A short hash of every training input (paths and contents)."""
    digest = hashlib.sha256()
    for path in _input_files():
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def model_path(model_dir: Path) -> Path:
    """Where the model for the current inputs lives (it may not exist yet)."""
    return model_dir / f"kejibang-{fingerprint()}.tar.gz"


def is_usable(path: Path) -> bool:
    """A model archive that exists and can be opened (a cut-off training leaves a broken one)."""
    if not path.is_file():
        return False
    try:
        with tarfile.open(path) as archive:
            return any(member.name for member in archive.getmembers())
    except (tarfile.TarError, OSError, EOFError):
        return False


def train(model_dir: Path, *, force: bool = False) -> Path:
    """The model for the current inputs, training it first if it is missing or corrupt."""
    path = model_path(model_dir)
    if is_usable(path) and not force:
        return path
    if path.exists():
        print(Operator.MODEL_CORRUPT.format(path=path), file=sys.stderr)
        path.unlink()
    model_dir.mkdir(parents=True, exist_ok=True)
    serving_only = ("TF_INTRA_OP_PARALLELISM_THREADS", "TF_INTER_OP_PARALLELISM_THREADS")  # training uses every core
    env = {**{k: v for k, v in os.environ.items() if k not in serving_only},
           "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false"}
    command = [sys.executable, "-m", "rasa", "train", "--domain", "domain", "--config", "config.yml",
               "--data", "nlu", "stories", "--out", str(model_dir), "--fixed-model-name", path.name[:-7]]
    print(Operator.TRAINING.format(name=path.name), file=sys.stderr, flush=True)
    # Rasa's progress goes to stderr so that `kejibang parse` keeps stdout for its JSON lines.
    subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=True, stdout=sys.stderr)
    if not is_usable(path):
        raise RuntimeError(f"training finished but {path} is missing or unreadable")
    for stale in model_dir.glob("kejibang-*.tar.gz"):
        if stale != path:
            stale.unlink()
    return path
