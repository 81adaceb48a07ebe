"""A BM25 index over documents (expert profiles, articles) held as one sparse matrix.

Each column holds one term's BM25 weight in every document, so a query costs one sparse
column-slice times a short weight vector: milliseconds at 250,000 experts on one core.

A small index of documents changed since the big one was built is weighed with the big one's
statistics (document frequencies, count, mean length) and searched beside it (``LayeredIndex``), so
an imported expert is searchable at once; its BM25 weights drift slightly from a full rebuild's
until the next rebuild merges it (a term new to the exchange counts only the delta's documents).
"""

from __future__ import annotations

from collections import ChainMap, Counter
from collections.abc import Iterable, Mapping

import numpy as np
from scipy import sparse

from exchange.matching import knowledge
from exchange.matching.evidence import BIGRAM_WEIGHT, char_bigrams
from exchange.matching.normalize import normalize

K1 = 1.2
B = 0.75


def document_terms(text: str) -> Counter[str]:
    """Term counts of a document: search-mode jieba words, plus character pairs at a lower weight."""
    normalized = normalize(text)
    counts: Counter[str] = Counter(w for w in knowledge.tokenizer().lcut_for_search(normalized) if w.strip())
    for bigram in char_bigrams(normalized):
        counts[bigram] += BIGRAM_WEIGHT
    return counts


class TermIndex:
    """BM25 weights of documents × terms, built once from (text) and queried with weighted terms.

    ``statistics``: the main index whose document frequencies, size and mean length weigh these documents
    too (a delta of changed documents); None weighs them on their own (a full build).
    """

    def __init__(self, texts: Iterable[str], progress=None, statistics: TermIndex | None = None) -> None:
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        values: list[float] = []
        lengths: list[float] = []
        for row, text in enumerate(texts):
            counts = document_terms(text)
            lengths.append(sum(counts.values()))
            for term, count in counts.items():
                rows.append(row)
                cols.append(vocabulary.setdefault(term, len(vocabulary)))
                values.append(count)
            if progress is not None:
                progress(1)
        self.vocabulary = vocabulary
        self.size = len(lengths)
        length_array = np.asarray(lengths, dtype=np.float32)
        self.document_frequency = np.bincount(np.asarray(cols, dtype=np.int64),
                                              minlength=max(len(vocabulary), 1)).astype(np.float32)
        self.mean_length = float(length_array.mean()) if self.size else 0.0
        self.matrix = self._bm25(rows, cols, values, length_array, statistics)

    @classmethod
    def restored(cls, terms: list[str], matrix: sparse.csc_matrix, document_frequency: np.ndarray,
                 mean_length: float) -> TermIndex:
        """An index as ``arrays`` saved it: loading is a file read, not a second tokenisation."""
        index = cls.__new__(cls)
        index.vocabulary = {term: column for column, term in enumerate(terms)}
        index.size = matrix.shape[0]
        index.document_frequency = document_frequency
        index.mean_length = mean_length
        index.matrix = matrix
        return index

    def arrays(self) -> tuple[list[str], sparse.csc_matrix, np.ndarray, float]:
        """What ``restored`` needs: the terms in column order, the weights and the statistics."""
        return list(self.vocabulary), self.matrix, self.document_frequency, self.mean_length

    def _weighing(self, statistics: TermIndex | None) -> tuple[int, np.ndarray, float]:
        """(document count, document frequency per column, mean length) that BM25 weighs with."""
        if statistics is None:
            return self.size, self.document_frequency, self.mean_length
        known = np.zeros_like(self.document_frequency)
        for term, column in self.vocabulary.items():
            if term in statistics.vocabulary:
                known[column] = statistics.document_frequency[statistics.vocabulary[term]]
        return statistics.size + self.size, known + self.document_frequency, statistics.mean_length

    def _bm25(self, rows: list[int], cols: list[int], values: list[float], lengths: np.ndarray,
              statistics: TermIndex | None) -> sparse.csc_matrix:
        shape = (self.size, max(len(self.vocabulary), 1))
        tf = sparse.csr_matrix((np.asarray(values, np.float32), (rows, cols)), shape=shape)
        if not self.size:
            return tf.tocsc()
        size, df, mean_length = self._weighing(statistics)
        idf = np.log1p((size - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = K1 * (1 - B + B * lengths / max(mean_length, 1e-6))
        tf.data = tf.data * (K1 + 1) / (tf.data + np.repeat(norm, np.diff(tf.indptr)))
        return (tf @ sparse.diags(idf)).tocsc().astype(np.float32)

    def search(self, terms: dict[str, float]) -> Hits:
        """BM25 score of every document for weighted query terms, with which terms hit which document."""
        found = [(t, self.vocabulary[t], w) for t, w in terms.items() if t in self.vocabulary]
        if not found or not self.size:
            return Hits(np.zeros(self.size, dtype=np.float32), [], None)
        names, columns, weights = zip(*found, strict=True)
        submatrix = self.matrix[:, list(columns)]
        scores = np.asarray(submatrix @ np.asarray(weights, dtype=np.float32)).ravel()
        return Hits(scores, list(names), submatrix)


class LayeredIndex:
    """A main index and a delta of changed documents below it: delta row ``r`` is row ``main.size + r``."""

    def __init__(self, main: TermIndex, delta: TermIndex) -> None:
        self.main = main
        self.delta = delta
        self.size = main.size + delta.size
        # answers only `term in vocabulary` (whether any document has the term): columns differ per layer
        self.vocabulary: Mapping[str, int] = ChainMap(delta.vocabulary, main.vocabulary)

    def search(self, terms: dict[str, float]) -> Hits:
        """Both layers' BM25 scores, end to end (the delta is weighed with the main index's statistics)."""
        return StackedHits(self.main.search(terms), self.delta.search(terms), self.main.size)


class Hits:
    """One query's scores, and the query terms each document contains (for the reasons shown)."""

    def __init__(self, scores: np.ndarray, names: list[str], submatrix: sparse.csc_matrix | None) -> None:
        self.scores = scores
        self._names = names
        self._submatrix = submatrix
        self._rows: sparse.csr_matrix | None = None

    def terms_of(self, row: int) -> list[str]:
        """Query terms (longest first) that occur in one document: the words a reason can quote."""
        if self._submatrix is None:
            return []
        if self._rows is None:
            self._rows = self._submatrix.tocsr()
        start, end = self._rows.indptr[row], self._rows.indptr[row + 1]
        return sorted((self._names[c] for c in self._rows.indices[start:end]), key=len, reverse=True)


class StackedHits(Hits):
    """The hits of a layered index: the main layer's rows, then the delta's."""

    def __init__(self, main: Hits, delta: Hits, offset: int) -> None:
        super().__init__(np.concatenate([main.scores, delta.scores]), [], None)
        self._main = main
        self._delta = delta
        self._offset = offset

    def terms_of(self, row: int) -> list[str]:
        """The query terms of a row, asked of the layer holding it."""
        return self._main.terms_of(row) if row < self._offset else self._delta.terms_of(row - self._offset)
