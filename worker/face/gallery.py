"""Many people's face templates in memory: one float32 matrix, changed in place, searched with one product.

Pure numpy, no I/O: server/services/templates.py loads it from the database and keeps it current.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from worker.face.matching import Candidate, rank_candidates

DIMENSIONS = 128
# Spare rows added when the matrix is full: a county's enrolments arrive one by one.
GROWTH = 1.25


class FaceGallery:
    """Template rows keyed by template id, each with the identity (owner) it belongs to.

    Removing a row moves the last row into its place, so the matrix stays dense and a search reads
    exactly the live rows. Owners are numbered once and never renumbered.
    """

    def __init__(self, capacity: int = 0) -> None:
        self._vectors = np.empty((capacity, DIMENSIONS), np.float32)
        self._squares = np.empty(capacity, np.float32)
        self._codes = np.empty(capacity, np.int32)
        self._ids: list[Hashable] = []
        self._rows: dict[Hashable, int] = {}
        self._owners: list[Hashable] = []
        self._code_of: dict[Hashable, int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, template_id: Hashable) -> bool:
        return template_id in self._rows

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (the matrix and its per-row columns), spare rows included."""
        return self._vectors.nbytes + self._squares.nbytes + self._codes.nbytes

    def owner_of(self, template_id: Hashable) -> Hashable:
        return self._owners[self._codes[self._rows[template_id]]]

    def _reserve(self, rows: int) -> None:
        if rows <= len(self._vectors):
            return
        capacity = max(rows, int(len(self._vectors) * GROWTH) + 16)
        for name in ("_vectors", "_squares", "_codes"):
            old = getattr(self, name)
            new = np.empty((capacity, *old.shape[1:]), old.dtype)
            new[: len(self)] = old[: len(self)]
            setattr(self, name, new)

    def put(self, ids: Sequence[Hashable], owners: Sequence[Hashable], vectors: np.ndarray) -> None:
        """Add templates, or replace those already held under the same id."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), DIMENSIONS)
        self._reserve(len(self) + len(ids))
        rows = np.empty(len(ids), np.intp)
        codes = np.empty(len(ids), np.int32)
        for k, (template_id, owner) in enumerate(zip(ids, owners, strict=True)):
            row = self._rows.get(template_id)
            if row is None:
                row = self._rows[template_id] = len(self._ids)
                self._ids.append(template_id)
            code = self._code_of.get(owner)
            if code is None:
                code = self._code_of[owner] = len(self._owners)
                self._owners.append(owner)
            rows[k], codes[k] = row, code
        self._vectors[rows] = vectors
        self._squares[rows] = np.einsum("ij,ij->i", vectors, vectors)
        self._codes[rows] = codes

    def remove(self, ids: Sequence[Hashable]) -> None:
        """Forget templates; ids not held are ignored."""
        for template_id in ids:
            row = self._rows.pop(template_id, None)
            if row is None:
                continue
            last = len(self._ids) - 1
            moved = self._ids.pop()
            if row != last:
                self._ids[row] = moved
                self._rows[moved] = row
                self._vectors[row] = self._vectors[last]
                self._squares[row] = self._squares[last]
                self._codes[row] = self._codes[last]

    def identity_distances(self, probes: np.ndarray, *, exclude: Hashable | None = None) -> np.ndarray:
        """Per owner code: the worst over the probes of each probe's closest template of that owner.

        One (probes × rows) product for every Euclidean distance; owners without a template left,
        and `exclude`, come out as +inf.
        """
        probes = np.atleast_2d(np.asarray(probes, dtype=np.float32))
        rows = len(self)
        vectors, codes = self._vectors[:rows], self._codes[:rows]
        squared = vectors @ probes.T  # (rows, probes)
        squared *= -2.0
        squared += self._squares[:rows, None]
        squared += np.einsum("ij,ij->i", probes, probes)[None, :]
        np.maximum(squared, 0.0, out=squared)
        distances = np.sqrt(squared, out=squared)
        worst = np.full(len(self._owners), -np.inf, np.float32)
        for k in range(probes.shape[0]):
            closest = np.full(len(self._owners), np.inf, np.float32)
            np.minimum.at(closest, codes, distances[:, k])
            np.maximum(worst, closest, out=worst)
        if exclude is not None and exclude in self._code_of:
            worst[self._code_of[exclude]] = np.inf
        return worst

    def duplicate_candidates(
        self,
        new: np.ndarray,
        *,
        exclude: Hashable | None,
        norm_threshold: float,
        raw_threshold: float,
        max_candidates: int,
        cohort_min: int,
    ) -> list[Candidate]:
        """worker.face.matching.duplicate_candidates over this gallery, without the `exclude` owner."""
        if len(self) == 0:
            return []
        worst = self.identity_distances(new, exclude=exclude)
        present = np.flatnonzero(np.isfinite(worst))
        ranked = rank_candidates(
            worst[present].astype(np.float64),
            norm_threshold=norm_threshold,
            raw_threshold=raw_threshold,
            max_candidates=max_candidates,
            cohort_min=cohort_min,
        )
        return [Candidate(self._owners[present[i]], distance, score) for i, distance, score in ranked]
