"""Many people's face templates in memory: one float32 matrix, changed in place, searched with one product.

Pure numpy, no I/O: server/services/templates.py loads it from the database and keeps it current.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

import numpy as np

from worker.face.matching import Candidate, rank_candidates

DIMENSIONS = 128
# Spare rows added when the matrix is full: a county's enrolments arrive one by one.
GROWTH = 1.25
_KEY = np.dtype("V16")


def _keys(ids: Sequence[uuid.UUID]) -> np.ndarray:
    return np.frombuffer(b"".join(i.bytes for i in ids), _KEY)


class FaceGallery:
    """Template rows keyed by template id, each with the identity (owner) it belongs to.

    Ids and owners are UUIDs, kept as 16-byte array entries rather than Python objects (a million
    UUIDs in dicts would cost more than the matrix's half gigabyte). `build` makes the gallery in
    bulk; `put` and `remove`, for the few changes of a catch-up, find rows by scanning those arrays.
    Removing a row moves the last row into its place, so the matrix stays dense and a search reads
    exactly the live rows. Owners are numbered once and never renumbered.
    """

    def __init__(self, capacity: int = 0) -> None:
        self._vectors = np.empty((capacity, DIMENSIONS), np.float32)
        self._squares = np.empty(capacity, np.float32)
        self._codes = np.empty(capacity, np.int32)
        self._ids = np.empty(capacity, _KEY)
        self._rows = 0
        self._owners = np.empty(0, _KEY)

    @classmethod
    def build(cls, batches: Iterable[tuple[Sequence[uuid.UUID], Sequence[uuid.UUID], np.ndarray]], capacity: int):
        """A gallery from batches of (template ids, owners, vectors); the ids must be distinct."""
        gallery = cls(capacity)
        code_of: dict[bytes, int] = {}  # for the build only
        for ids, owners, vectors in batches:
            codes = np.fromiter((code_of.setdefault(o.bytes, len(code_of)) for o in owners), np.int32, len(owners))
            gallery._append(_keys(ids), codes, vectors)
        # A dict keeps insertion order: its keys are the owners in code order.
        gallery._owners = np.frombuffer(b"".join(code_of), _KEY).copy()
        return gallery

    def __len__(self) -> int:
        return self._rows

    def __contains__(self, template_id: uuid.UUID) -> bool:
        return self._row(template_id) is not None

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (the matrix and its per-row columns), spare rows included."""
        return sum(a.nbytes for a in (self._vectors, self._squares, self._codes, self._ids, self._owners))

    def _row(self, template_id: uuid.UUID) -> int | None:
        hits = np.flatnonzero(self._ids[: self._rows] == np.void(template_id.bytes))
        return int(hits[0]) if len(hits) else None

    def _code(self, owner: uuid.UUID) -> int | None:
        hits = np.flatnonzero(self._owners == np.void(owner.bytes))
        return int(hits[0]) if len(hits) else None

    def _reserve(self, rows: int) -> None:
        if rows <= len(self._vectors):
            return
        capacity = max(rows, int(len(self._vectors) * GROWTH) + 16)
        for name in ("_vectors", "_squares", "_codes", "_ids"):
            old = getattr(self, name)
            new = np.empty((capacity, *old.shape[1:]), old.dtype)
            new[: self._rows] = old[: self._rows]
            setattr(self, name, new)

    def _append(self, keys: np.ndarray, codes: np.ndarray, vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(keys), DIMENSIONS)
        self._reserve(self._rows + len(keys))
        rows = slice(self._rows, self._rows + len(keys))
        self._vectors[rows] = vectors
        self._squares[rows] = np.einsum("ij,ij->i", vectors, vectors)
        self._codes[rows] = codes
        self._ids[rows] = keys
        self._rows += len(keys)

    def put(self, template_id: uuid.UUID, owner: uuid.UUID, vector: np.ndarray) -> None:
        """Add a template, or replace the one held under the same id."""
        code = self._code(owner)
        if code is None:
            code = len(self._owners)
            self._owners = np.append(self._owners, np.array([np.void(owner.bytes)], _KEY))
        row = self._row(template_id)
        if row is not None:
            self.remove(template_id)
        self._append(_keys([template_id]), np.array([code], np.int32), vector)

    def remove(self, template_id: uuid.UUID) -> None:
        """Forget a template; an id not held is ignored."""
        row = self._row(template_id)
        if row is None:
            return
        last = self._rows - 1
        if row != last:
            for column in (self._vectors, self._squares, self._codes, self._ids):
                column[row] = column[last]
        self._rows = last

    def identity_distances(self, probes: np.ndarray, *, exclude: uuid.UUID | None = None) -> np.ndarray:
        """Per owner code: the worst over the probes of each probe's closest template of that owner.

        Every Euclidean distance from one product per probe; owners without a template left, and
        `exclude`, come out as +inf.
        """
        probes = np.atleast_2d(np.asarray(probes, dtype=np.float32))
        rows = self._rows
        vectors, codes, squares = self._vectors[:rows], self._codes[:rows], self._squares[:rows]
        worst = np.full(len(self._owners), -np.inf, np.float32)
        closest = np.empty(len(self._owners), np.float32)
        # One matrix-vector product per probe: OpenBLAS multiplies by a (128, 2) matrix slower than twice by a vector.
        for probe in probes:
            squared = vectors @ probe
            squared *= -2.0
            squared += squares
            squared += probe @ probe
            np.maximum(squared, 0.0, out=squared)
            closest.fill(np.inf)
            np.minimum.at(closest, codes, np.sqrt(squared, out=squared))
            np.maximum(worst, closest, out=worst)
        excluded = None if exclude is None else self._code(exclude)
        if excluded is not None:
            worst[excluded] = np.inf
        return worst

    def duplicate_candidates(
        self,
        new: np.ndarray,
        *,
        exclude: uuid.UUID | None,
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
        return [
            Candidate(uuid.UUID(bytes=self._owners[present[i]].tobytes()), distance, score)
            for i, distance, score in ranked
        ]
