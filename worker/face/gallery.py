"""Many people's face templates in memory: one float32 matrix, changed in place, searched in one pass.

Pure numpy, no I/O: server/services/templates.py loads it from the database and keeps it current.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from functools import cache

import numpy as np
from threadpoolctl import ThreadpoolController

from worker.face.matching import Candidate, rank_candidates

DIMENSIONS = 128
# Spare rows added when the matrix is full: a county's enrolments arrive one by one.
GROWTH = 1.25
# Rows per product: 512 KiB of the matrix and its result stay in a core's L2 cache while every probe is
# multiplied, so the matrix is read from memory once per search whatever the number of probes.
BLOCK = 1024
# Rows moved per step when the matrix is compacted in place.
CHUNK = 65_536
# The unsorted tail and the removed rows each may grow to this share of the rows (at least SLACK rows)
# before the rows are grouped by owner again: both cost a little on every search, a regrouping once.
SLACK_SHARE = 32
SLACK = 64
_KEY = np.dtype("V16")


@cache
def _blas() -> ThreadpoolController:
    # Built on the first search, not at import: it inspects every loaded library (tens of ms).
    return ThreadpoolController()


def _keys(ids: Sequence[uuid.UUID]) -> np.ndarray:
    return np.frombuffer(b"".join(i.bytes for i in ids), _KEY)


def _run_starts(codes: np.ndarray) -> np.ndarray:
    """Where each run of equal codes begins."""
    first = np.ones(len(codes), bool)
    np.not_equal(codes[1:], codes[:-1], out=first[1:])
    return np.flatnonzero(first)


class FaceGallery:
    """Template rows keyed by template id, each with the identity (owner) it belongs to.

    Ids and owners are UUIDs, kept as 16-byte array entries rather than Python objects (a million
    UUIDs in dicts would cost more than the matrix's half gigabyte). `build` makes the gallery in
    bulk; `put` and `remove`, for the few changes of a catch-up, find rows by scanning those arrays.
    Owners are numbered once and never renumbered.

    The search takes each owner's closest template, so the rows are kept grouped by owner: the first
    `_grouped` rows hold each owner's rows as one run (`_starts`, `_run_owners`), and a per-owner
    minimum is a reduction over contiguous runs. Rows put since the last grouping form a tail after
    them, in any order. A removed tail row is replaced by the last row; a removed grouped row stays,
    dead (owner code -1, square +inf, so it is nobody's closest). When the tail or the dead rows
    grow past their share, the rows are grouped again in place (`_regroup`).
    """

    def __init__(self, capacity: int = 0) -> None:
        self._vectors = np.empty((capacity, DIMENSIONS), np.float32)
        self._squares = np.empty(capacity, np.float32)
        self._codes = np.empty(capacity, np.int32)
        self._ids = np.empty(capacity, _KEY)
        self._rows = 0
        self._owners = np.empty(0, _KEY)
        self._grouped = 0
        self._dead = 0
        self._starts = np.empty(0, np.intp)
        self._run_owners = np.empty(0, np.int32)
        self._run_of = np.empty(0, np.int32)  # per owner code: its run, or -1
        self._runs_in_code_order = True

    @classmethod
    def build(cls, batches: Iterable[tuple[Sequence[uuid.UUID], Sequence[uuid.UUID], np.ndarray]], capacity: int):
        """A gallery from batches of (template ids, owners, vectors); the ids must be distinct.

        Rows arriving grouped by owner stay where they are; an owner's rows scattered through the
        batches are moved together at the end, through a copy of those rows only.
        """
        gallery = cls(capacity)
        code_of: dict[bytes, int] = {}  # for the build only
        for ids, owners, vectors in batches:
            codes = np.fromiter((code_of.setdefault(o.bytes, len(code_of)) for o in owners), np.int32, len(owners))
            gallery._append(_keys(ids), codes, vectors)
        # A dict keeps insertion order: its keys are the owners in code order.
        gallery._owners = np.frombuffer(b"".join(code_of), _KEY).copy()
        gallery._regroup()
        return gallery

    def __len__(self) -> int:
        return self._rows - self._dead

    def __contains__(self, template_id: uuid.UUID) -> bool:
        return self._row(template_id) is not None

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (the matrix and its per-row columns), spare rows included."""
        arrays = (
            self._vectors,
            self._squares,
            self._codes,
            self._ids,
            self._owners,
            self._starts,
            self._run_owners,
            self._run_of,
        )
        return sum(a.nbytes for a in arrays)

    def _columns(self) -> tuple[np.ndarray, ...]:
        return self._vectors, self._squares, self._codes, self._ids

    def _row(self, template_id: uuid.UUID) -> int | None:
        hits = np.flatnonzero(self._ids[: self._rows] == np.void(template_id.bytes))
        # A dead row keeps its id: a template removed and put again has a live row besides.
        live = hits[self._codes[hits] >= 0]
        return int(live[0]) if len(live) else None

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

    def _slack(self) -> int:
        return max(SLACK, self._rows // SLACK_SHARE)

    def put(self, template_id: uuid.UUID, owner: uuid.UUID, vector: np.ndarray) -> None:
        """Add a template, or replace the one held under the same id."""
        code = self._code(owner)
        if code is None:
            code = len(self._owners)
            self._owners = np.append(self._owners, np.array([np.void(owner.bytes)], _KEY))
        if self._row(template_id) is not None:
            self.remove(template_id)
        self._append(_keys([template_id]), np.array([code], np.int32), vector)
        if self._rows - self._grouped > self._slack():
            self._regroup()

    def remove(self, template_id: uuid.UUID) -> None:
        """Forget a template; an id not held is ignored."""
        row = self._row(template_id)
        if row is None:
            return
        if row < self._grouped:
            self._codes[row] = -1
            self._squares[row] = np.inf
            self._dead += 1
            if self._dead > self._slack():
                self._regroup()
            return
        last = self._rows - 1
        if row != last:
            for column in self._columns():
                column[row] = column[last]
        self._rows = last

    def _regroup(self) -> None:
        """Drop the dead rows and make each owner's rows one run, moving as few rows as it can.

        Rows of owners already in one run keep their order and slide down over the gaps; the rows of
        owners found in several runs (a template put for someone already grouped) are copied out
        first and written after them, owner by owner.
        """
        codes = self._codes[: self._rows]
        live = np.flatnonzero(codes >= 0)
        owners = codes[live]
        runs = np.bincount(owners[_run_starts(owners)], minlength=len(self._owners))
        scattered = runs[owners] > 1
        kept, moved = live[~scattered], live[scattered]
        moved = moved[np.argsort(codes[moved], kind="stable")]
        copies = [column[moved] for column in self._columns()]
        # Every kept row moves to a lower or the same index, so chunks in ascending order never
        # overwrite a row still to be read.
        for start in range(0, len(kept), CHUNK):
            sources = kept[start : start + CHUNK]
            if sources[0] == start and sources[-1] == start + len(sources) - 1:
                continue
            for column in self._columns():
                column[start : start + len(sources)] = column[sources]
        for column, copy in zip(self._columns(), copies, strict=True):
            column[len(kept) : len(live)] = copy
        self._rows = self._grouped = len(live)
        self._dead = 0
        self._starts = _run_starts(self._codes[: self._rows])
        self._run_owners = self._codes[self._starts]
        self._run_of = np.full(len(self._owners), -1, np.int32)
        self._run_of[self._run_owners] = np.arange(len(self._run_owners), dtype=np.int32)
        self._runs_in_code_order = bool(np.array_equal(self._run_owners, np.arange(len(self._run_owners))))

    def identity_distances(self, probes: np.ndarray, *, exclude: uuid.UUID | None = None) -> np.ndarray:
        """Per owner code: the worst over the probes of each probe's closest template of that owner.

        Every Euclidean distance from one pass over the matrix for all the probes; owners without a
        template left, and `exclude`, come out as +inf.
        """
        probes = np.atleast_2d(np.asarray(probes, dtype=np.float32))
        rows, grouped = self._rows, self._grouped
        # |v - p|² = |v|² - 2 v·p + |p|²; doubling is exact in floating point, so it goes into the probes.
        scaled = np.ascontiguousarray(probes.T * np.float32(-2.0))
        squared = np.empty((rows, len(probes)), np.float32)
        # One block's product is too small to share out: BLAS threads would only wait for each other.
        with _blas().limit(limits=1, user_api="blas"):
            for start in range(0, rows, BLOCK):
                stop = min(start + BLOCK, rows)
                np.matmul(self._vectors[start:stop], scaled, out=squared[start:stop])
        # Column by column: numpy broadcasts over a short inner axis (one loop per row) slowly.
        for column, length in zip(squared.T, np.einsum("ij,ij->i", probes, probes), strict=True):
            column += self._squares[:rows]
            column += length
        # Each run's closest row per probe (a run of one row is its own closest).
        runs = squared[:grouped]
        if len(self._starts) < grouped:
            runs = np.minimum.reduceat(runs, self._starts, axis=0)
        worst = np.full(len(self._owners), np.inf, np.float32)
        if rows > grouped:
            owners, which = np.unique(self._codes[grouped:rows], return_inverse=True)
            tail = np.full((len(owners), len(probes)), np.inf, np.float32)
            np.minimum.at(tail, which, squared[grouped:rows])
            run = np.full(len(owners), -1, np.int32)
            known = owners < len(self._run_of)
            run[known] = self._run_of[owners[known]]
            grouped_too = run >= 0
            runs[run[grouped_too]] = np.minimum(runs[run[grouped_too]], tail[grouped_too])
            worst[owners[~grouped_too]] = tail[~grouped_too].max(axis=1)
        # The worst probe, column by column again.
        run_worst = runs[:, 0].copy()
        for column in range(1, len(probes)):
            np.maximum(run_worst, runs[:, column], out=run_worst)
        if self._runs_in_code_order:
            worst[: len(run_worst)] = run_worst
        else:
            worst[self._run_owners] = run_worst
        # The square root and the clamp of rounding below zero keep the order: applied to the worst only.
        np.sqrt(np.maximum(worst, 0.0, out=worst), out=worst)
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
