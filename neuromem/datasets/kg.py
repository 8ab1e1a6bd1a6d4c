"""Knowledge-graph triples: reader, vocabularies and the adjacency tensor ``X[s, p, o]``.

A knowledge graph folder holds ``train.txt``, ``valid.txt`` and ``test.txt`` with one triple
per line, ``head<TAB>relation<TAB>tail`` (the layout of the Kinships, Nations and UMLS
benchmarks as bundled by PyKEEN). :func:`load_kg` reads such a folder into a
:class:`KnowledgeGraph` whose triples are integer arrays with columns ``(s, p, o)``.

The adjacency tensor has ``X[s, p, o] = 1`` when the triple is known and 0 otherwise;
:meth:`KnowledgeGraph.adjacency` returns it as a sparse matrix of shape
``(n_entities * n_relations, n_entities)`` whose row ``s * n_relations + p`` is the
fibre ``X[s, p, :]`` (or as a dense boolean array of shape ``(n_e, n_r, n_e)``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuromem.datasets import require_dir, require_file

__all__ = ["KnowledgeGraph", "read_triples", "load_kg", "adjacency_tensor", "SPLITS"]

SPLITS = ("train", "valid", "test")


def read_triples(path: str | os.PathLike) -> list[tuple[str, str, str]]:
    """Read a triples file: one ``head<TAB>relation<TAB>tail`` per line.

    Blank lines are skipped; surrounding white space of each field is stripped.

    Parameters
    ----------
    path : path
        The file to read.

    Returns
    -------
    list of (str, str, str)
        The triples in file order.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    ValueError
        A line does not have exactly three tab-separated, non-empty columns (the message
        names the file and line number), or the file holds no triple.
    """
    p = require_file(path, what="triples file")
    out = []
    try:
        _read_triple_lines(p, out)
    except UnicodeDecodeError as e:
        raise ValueError(
            f"triples file {p}: not UTF-8 text after {len(out)} triples ({e.reason})"
        ) from None
    if not out:
        raise ValueError(f"triples file {p}: empty split (no triples)")
    return out


def _read_triple_lines(p: Path, out: list) -> None:
    with p.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            text = line.rstrip("\n\r")
            if not text.strip():
                continue
            cols = text.split("\t")
            if len(cols) != 3:
                raise ValueError(
                    f"triples file {p}: line {lineno} has {len(cols)} tab-separated columns, "
                    "expected 3 (head<TAB>relation<TAB>tail)"
                )
            cols = [c.strip() for c in cols]
            if not all(cols):
                raise ValueError(f"triples file {p}: line {lineno} has an empty column")
            out.append((cols[0], cols[1], cols[2]))


def adjacency_tensor(triples, n_entities: int, n_relations: int, dense: bool = False):
    """The adjacency tensor ``X[s, p, o]`` of integer triples.

    Parameters
    ----------
    triples : ndarray of int, shape (n, 3)
        Columns ``(s, p, o)``.
    n_entities, n_relations : int
        Sizes of the vocabularies.
    dense : bool
        Return a dense boolean array of shape ``(n_entities, n_relations, n_entities)``
        instead of the sparse matrix.

    Returns
    -------
    scipy.sparse.csr_matrix or ndarray
        Sparse: shape ``(n_entities * n_relations, n_entities)``, row ``s * n_relations + p``
        holds ``X[s, p, :]`` (duplicates count once).

    Raises
    ------
    ValueError
        ``triples`` is not an ``(n, 3)`` integer array or holds out-of-range ids.
    """
    t = _check_triples(triples, n_entities, n_relations, "triples")
    if dense:
        x = np.zeros((n_entities, n_relations, n_entities), dtype=bool)
        x[t[:, 0], t[:, 1], t[:, 2]] = True
        return x
    from scipy import sparse

    rows = t[:, 0] * n_relations + t[:, 1]
    m = sparse.csr_matrix(
        (np.ones(len(t), dtype=np.float64), (rows, t[:, 2])),
        shape=(n_entities * n_relations, n_entities),
    )
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def _check_triples(triples, n_entities, n_relations, name):
    t = np.asarray(triples)
    if t.ndim != 2 or t.shape[1] != 3:
        raise ValueError(f"{name}: expected an (n, 3) array of (s, p, o) ids, got shape {t.shape}")
    if t.size and not np.issubdtype(t.dtype, np.integer):
        raise TypeError(f"{name}: expected integer ids, got dtype {t.dtype}")
    t = t.astype(np.int64, copy=False)
    if t.size:
        if t.min() < 0:
            raise ValueError(f"{name}: negative ids")
        if t[:, [0, 2]].max() >= n_entities:
            raise ValueError(f"{name}: entity id out of range [0, {n_entities})")
        if t[:, 1].max() >= n_relations:
            raise ValueError(f"{name}: relation id out of range [0, {n_relations})")
    return t


@dataclass
class KnowledgeGraph:
    """A knowledge graph with integer triples and name vocabularies.

    Attributes
    ----------
    entities : list of str
        Entity names; the id of an entity is its position.
    relations : list of str
        Relation (predicate) names.
    train, valid, test : ndarray of int64, shape (n, 3)
        Triples ``(s, p, o)`` of each split.
    name : str
        A label (the folder name when read by :func:`load_kg`).
    """

    entities: list[str]
    relations: list[str]
    train: np.ndarray
    valid: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.int64))
    test: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.int64))
    name: str = "kg"

    def __post_init__(self):
        self.entities = list(self.entities)
        self.relations = list(self.relations)
        if len(set(self.entities)) != len(self.entities):
            raise ValueError("entities: names must be unique")
        if len(set(self.relations)) != len(self.relations):
            raise ValueError("relations: names must be unique")
        for split in SPLITS:
            setattr(
                self,
                split,
                _check_triples(getattr(self, split), self.n_entities, self.n_relations, split),
            )
        if len(self.train) == 0:
            raise ValueError("train: empty split (no triples)")
        self._eidx = {n: i for i, n in enumerate(self.entities)}
        self._ridx = {n: i for i, n in enumerate(self.relations)}

    @property
    def n_entities(self) -> int:
        """Number of entities."""
        return len(self.entities)

    @property
    def n_relations(self) -> int:
        """Number of relations."""
        return len(self.relations)

    def entity_id(self, name: str) -> int:
        """Id of entity ``name``; ValueError naming it when unknown."""
        try:
            return self._eidx[name]
        except (KeyError, TypeError):
            raise ValueError(f"entity: unknown name {name!r} (graph {self.name!r})") from None

    def relation_id(self, name: str) -> int:
        """Id of relation ``name``; ValueError naming it when unknown."""
        try:
            return self._ridx[name]
        except (KeyError, TypeError):
            raise ValueError(f"relation: unknown name {name!r} (graph {self.name!r})") from None

    def encode(self, triples) -> np.ndarray:
        """Integer ``(n, 3)`` array of named triples ``[(head, relation, tail), ...]``.

        Raises
        ------
        ValueError
            A name is unknown or an item is not a 3-tuple.
        """
        out = np.empty((len(triples), 3), dtype=np.int64)
        for i, tr in enumerate(triples):
            if len(tr) != 3:
                raise ValueError(f"triples[{i}]: expected (head, relation, tail), got {tr!r}")
            out[i] = (self.entity_id(tr[0]), self.relation_id(tr[1]), self.entity_id(tr[2]))
        return out

    def decode(self, triples) -> list[tuple[str, str, str]]:
        """Named triples of an integer ``(n, 3)`` array."""
        t = _check_triples(triples, self.n_entities, self.n_relations, "triples")
        return [(self.entities[s], self.relations[p], self.entities[o]) for s, p, o in t]

    def all_triples(self) -> np.ndarray:
        """Train, valid and test triples stacked (the filter of filtered ranking)."""
        return np.concatenate([self.train, self.valid, self.test])

    def adjacency(self, splits=("train",), dense: bool = False):
        """Adjacency tensor ``X[s, p, o]`` of the given splits (see :func:`adjacency_tensor`)."""
        if isinstance(splits, str):
            splits = (splits,)
        parts = []
        for s in splits:
            if s not in SPLITS:
                raise ValueError(f"splits: unknown split {s!r}; expected one of {SPLITS}")
            parts.append(getattr(self, s))
        return adjacency_tensor(np.concatenate(parts), self.n_entities, self.n_relations, dense)

    def __repr__(self) -> str:
        return (
            f"KnowledgeGraph({self.name!r}: {self.n_entities} entities, "
            f"{self.n_relations} relations, train/valid/test "
            f"{len(self.train)}/{len(self.valid)}/{len(self.test)})"
        )


def load_kg(path: str | os.PathLike, name: str | None = None) -> KnowledgeGraph:
    """Read a knowledge-graph folder holding ``train.txt``, ``valid.txt`` and ``test.txt``.

    The vocabularies are the sorted names met in the three splits, so ids do not depend on
    file order.

    Parameters
    ----------
    path : path
        The folder (e.g. ``DATA/kg/kinships``).
    name : str, optional
        Label of the graph (default: the folder name).

    Returns
    -------
    KnowledgeGraph

    Raises
    ------
    DataNotFoundError
        The folder or one of the three files is missing.
    ValueError
        A file has a line without exactly three columns, or a split is empty.
    """
    folder = require_dir(path, what="knowledge-graph folder")
    named = {}
    for split in SPLITS:
        named[split] = read_triples(require_file(folder / f"{split}.txt", what=f"{split} split"))
    ents = sorted({x for tr in named.values() for t in tr for x in (t[0], t[2])})
    rels = sorted({t[1] for tr in named.values() for t in tr})
    eidx = {n: i for i, n in enumerate(ents)}
    ridx = {n: i for i, n in enumerate(rels)}
    arrays = {
        split: np.array([(eidx[h], ridx[r], eidx[t]) for h, r, t in tr], dtype=np.int64)
        for split, tr in named.items()
    }
    return KnowledgeGraph(
        ents, rels, arrays["train"], arrays["valid"], arrays["test"], name or Path(folder).name
    )
