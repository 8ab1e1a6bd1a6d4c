"""Knowledge-graph triples reader, vocabularies and adjacency tensor."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.datasets.kg import KnowledgeGraph, adjacency_tensor, load_kg, read_triples
from neuromem.errors import DataNotFoundError


def _write_kg(folder, train, valid, test):
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train", train), ("valid", valid), ("test", test)):
        (folder / f"{name}.txt").write_text("".join("\t".join(r) + "\n" for r in rows))
    return folder


TRAIN = [("b", "likes", "a"), ("a", "likes", "c"), ("c", "hates", "b"), ("a", "hates", "b")]
VALID = [("b", "likes", "c")]
TEST = [("d", "likes", "a")]


def test_read_triples_and_blank_lines(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("x\tr\ty\n\n u \tr\tz\n")
    assert read_triples(p) == [("x", "r", "y"), ("u", "r", "z")]


def test_read_triples_wrong_columns_names_line(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("x\tr\ty\nx\tr\n")
    with pytest.raises(ValueError, match="line 2 has 2"):
        read_triples(p)
    p.write_text("x\tr\ty\tw\n")
    with pytest.raises(ValueError, match="line 1 has 4"):
        read_triples(p)
    p.write_text("x\t\ty\n")
    with pytest.raises(ValueError, match="empty column"):
        read_triples(p)


def test_read_triples_empty_and_missing(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("\n\n")
    with pytest.raises(ValueError, match="empty split"):
        read_triples(p)
    with pytest.raises(DataNotFoundError):
        read_triples(tmp_path / "absent.txt")


def test_load_kg_vocabulary_and_ids(tmp_path):
    kg = load_kg(_write_kg(tmp_path / "toy", TRAIN, VALID, TEST))
    assert kg.name == "toy"
    assert kg.entities == ["a", "b", "c", "d"]  # sorted, from all splits
    assert kg.relations == ["hates", "likes"]
    assert kg.train.shape == (4, 3) and kg.train.dtype == np.int64
    assert kg.decode(kg.train) == TRAIN
    assert kg.decode(kg.test) == TEST
    assert np.array_equal(kg.encode(TRAIN), kg.train)
    assert len(kg.all_triples()) == 6


def test_unknown_names_raise(tmp_path):
    kg = load_kg(_write_kg(tmp_path / "toy", TRAIN, VALID, TEST))
    with pytest.raises(ValueError, match="entity: unknown name 'zz'"):
        kg.entity_id("zz")
    with pytest.raises(ValueError, match="relation: unknown name 'loves'"):
        kg.encode([("a", "loves", "b")])


def test_missing_split_and_folder(tmp_path):
    folder = _write_kg(tmp_path / "toy", TRAIN, VALID, TEST)
    (folder / "valid.txt").unlink()
    with pytest.raises(DataNotFoundError, match="valid"):
        load_kg(folder)
    with pytest.raises(DataNotFoundError):
        load_kg(tmp_path / "nowhere")


def test_empty_split_file_raises(tmp_path):
    folder = _write_kg(tmp_path / "toy", TRAIN, VALID, TEST)
    (folder / "test.txt").write_text("")
    with pytest.raises(ValueError, match="empty split"):
        load_kg(folder)


def test_adjacency_sparse_matches_dense(tmp_path):
    kg = load_kg(_write_kg(tmp_path / "toy", TRAIN, VALID, TEST))
    dense = kg.adjacency(("train", "valid"), dense=True)
    assert dense.shape == (4, 2, 4)
    assert dense.sum() == 5
    for s, p, o in np.concatenate([kg.train, kg.valid]):
        assert dense[s, p, o]
    sp = kg.adjacency(("train", "valid"))
    assert sp.shape == (8, 4)
    assert np.array_equal(sp.toarray().reshape(4, 2, 4).astype(bool), dense)
    # duplicates count once
    dup = adjacency_tensor(np.array([[0, 0, 1], [0, 0, 1]]), 2, 1)
    assert dup.nnz == 1 and dup.toarray()[0, 1] == 1.0
    with pytest.raises(ValueError, match="unknown split"):
        kg.adjacency("dev")


def test_knowledge_graph_validates_ids():
    with pytest.raises(ValueError, match="entity id out of range"):
        KnowledgeGraph(["a"], ["r"], np.array([[0, 0, 1]]))
    with pytest.raises(ValueError, match="train: empty"):
        KnowledgeGraph(["a"], ["r"], np.zeros((0, 3), np.int64))
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        KnowledgeGraph(["a"], ["r"], np.zeros((2, 2), np.int64))
    with pytest.raises(TypeError, match="integer"):
        KnowledgeGraph(["a"], ["r"], np.zeros((1, 3)))


@pytest.mark.data
@pytest.mark.parametrize(
    "name,sizes",
    [
        ("kinships", (104, 25, 8544, 1068, 1074)),
        ("nations", (14, 55, 1592, 199, 201)),
        ("umls", (135, 46, 5216, 652, 661)),
    ],
)
def test_reference_graph_sizes(shared_data, name, sizes):
    folder = shared_data / "kg" / name
    if not folder.is_dir():
        pytest.skip(f"{folder} absent")
    kg = load_kg(folder)
    assert (kg.n_entities, kg.n_relations, len(kg.train), len(kg.valid), len(kg.test)) == sizes
