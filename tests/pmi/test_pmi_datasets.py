"""bAbI reader and Sort-of-CLEVR generator."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.datasets.babi import (
    BabiVocab,
    babi_file,
    load_babi,
    parse_babi_lines,
    read_babi_file,
    vectorize_babi,
)
from neuromem.datasets.sort_of_clevr import (
    ANSWERS,
    COLORS,
    answer_question,
    generate_sort_of_clevr,
)
from neuromem.errors import DataNotFoundError

LINES = [
    "1 Mary moved to the bathroom.",
    "2 John went to the hallway.",
    "3 Where is Mary? \tbathroom\t1",
    "4 Daniel went back to the hallway.",
    "5 Where is Daniel? \thallway\t4",
    "1 Sandra journeyed to the garden.",
    "2 Where is Sandra? \tgarden\t1",
]


def test_parse_stories_questions_and_supporting_facts():
    ex = parse_babi_lines(LINES, task=1)
    assert len(ex) == 3
    assert ex[0].story == [["mary", "moved", "to", "the", "bathroom"],
                           ["john", "went", "to", "the", "hallway"]]  # fmt: skip
    assert ex[0].question == ["where", "is", "mary"] and ex[0].answer == "bathroom"
    assert ex[0].supporting == [0]
    # the earlier question is not part of the story; IDs map past it
    assert len(ex[1].story) == 3 and ex[1].supporting == [2]
    assert ex[1].story[2][0] == "daniel"
    # a new story starts at ID 1
    assert ex[2].story == [["sandra", "journeyed", "to", "the", "garden"]]
    assert all(e.task == 1 for e in ex)


@pytest.mark.parametrize(
    "bad, words",
    [
        (["Mary moved."], "expected 'ID text'"),
        (["1 Mary moved.", "2 Where is Mary?\t\t1"], "without an answer"),
        (["1 Mary moved.", "2 Where is Mary?\tkitchen\tx"], "bad supporting ID"),
        (["1 Mary moved.", "2 Where is Mary?\tkitchen\t7"], "not a statement above"),
        (["1 Mary moved.", "3 John left."], "does not follow"),
        (["1 ..."], "empty statement"),
    ],
)
def test_malformed_lines_name_source_and_line(bad, words):
    with pytest.raises(ValueError, match=words) as e:
        parse_babi_lines(bad, source="toy.txt")
    assert "toy.txt:" in str(e.value)


def test_vocab_and_vectorize(tmp_path):
    ex = parse_babi_lines(LINES, task=1)
    voc = BabiVocab(ex)
    assert voc.words[:2] == ["<pad>", "<unk>"] and voc.answers == ["bathroom", "garden", "hallway"]
    arr = vectorize_babi(ex, voc, max_sentences=2)
    assert arr["story"].shape == (3, 2, 6) and arr["question"].shape == (3, 6)
    assert arr["n_truncated"] == 1  # the 3-sentence story keeps its 2 most recent
    assert voc.words[arr["story"][1, 1, 0]] == "daniel"
    assert arr["story_mask"].tolist() == [[True, True], [True, True], [True, False]]
    assert arr["answer"].tolist() == [0, 2, 1]
    assert voc.encode(["zebra"]) == [1]
    with pytest.raises(ValueError, match="max_sentences"):
        vectorize_babi(ex, voc, max_sentences=0)


def test_files_found_and_missing(tmp_path):
    (tmp_path / "qa1_train.txt").write_text("\n".join(LINES) + "\n")
    assert babi_file(tmp_path, 1, "train").name == "qa1_train.txt"
    assert len(load_babi(tmp_path, [1], "train")) == 3
    with pytest.raises(DataNotFoundError, match="task 2 train"):
        load_babi(tmp_path, [1, 2], "train")
    with pytest.raises(ValueError, match="split"):
        babi_file(tmp_path, 1, "dev")
    with pytest.raises(ValueError, match="task"):
        babi_file(tmp_path, 21, "train")
    with pytest.raises(DataNotFoundError):
        read_babi_file(tmp_path / "nope.txt")


@pytest.mark.data
def test_reference_babi_folder(shared_data):
    d = shared_data / "babi" / "en-valid-10k"
    if not d.is_dir():
        pytest.skip(f"no bAbI folder in {shared_data}")
    tr = read_babi_file(babi_file(d, 1, "train"), task=1)
    te = read_babi_file(babi_file(d, 1, "test"), task=1)
    assert len(tr) == 9000 and len(te) == 1000  # the 10k set with its 1k validation split
    voc = BabiVocab(tr)
    assert set(voc.answers) <= {"bathroom", "bedroom", "garden", "hallway", "kitchen", "office"}
    # every supporting fact of task 1 names the person asked about
    for e in tr[:500]:
        assert e.question[-1] in e.story[e.supporting[0]]


# ----------------------------------------------------------------------------- Sort-of-CLEVR


def _objects_from_pixels(img):
    """Centre and shape of each colour, recovered from the image alone."""
    out = []
    for c in COLORS:
        ys, xs = np.nonzero(np.all(img == c, axis=-1))
        cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
        filled = len(xs) / ((xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1))
        out.append((cx, cy, 0 if filled > 0.95 else 1))  # squares fill their box
    return np.array(out)


def test_sort_of_clevr_answers_agree_with_the_pictures():
    d = generate_sort_of_clevr(12, np.random.default_rng(0), questions_per_kind=10)
    assert d["images"].shape == (12, 75, 75, 3) and d["question"].shape == (240, 11)
    assert np.all(d["question"].sum(1) == 3)
    assert d["relational"].sum() == 120
    for i in range(12):
        obj = _objects_from_pixels(d["images"][i])
        np.testing.assert_allclose(obj[:, :2], d["objects"][i][:, :2])
        assert np.array_equal(obj[:, 2], d["objects"][i][:, 2])
    for row in range(240):
        i = d["image_index"][row]
        q = d["question"][row]
        color = int(np.argmax(q[:6]))
        rel = bool(q[7])
        st = int(np.argmax(q[8:]))
        assert rel == d["relational"][row] and st == d["subtype"][row]
        assert d["answer"][row] == answer_question(d["objects"][i], color, rel, st, 75)


def test_answer_rules_on_a_hand_made_layout():
    # x, y, shape: red square left-top, green circle right-top, others spread out
    obj = np.array([[10, 10, 0], [60, 10, 1], [12, 60, 1], [60, 60, 0], [35, 35, 1], [20, 12, 1]])
    assert ANSWERS[answer_question(obj, 0, False, 0, 75)] == "rectangle"
    assert ANSWERS[answer_question(obj, 1, False, 1, 75)] == "no"  # not on the left
    assert ANSWERS[answer_question(obj, 0, False, 2, 75)] == "yes"  # on the top
    assert ANSWERS[answer_question(obj, 0, True, 0, 75)] == "circle"  # nearest: yellow (20, 12)
    assert ANSWERS[answer_question(obj, 0, True, 1, 75)] == "rectangle"  # farthest: orange
    assert ANSWERS[answer_question(obj, 0, True, 2, 75)] == "2"  # two squares


def test_sort_of_clevr_is_seeded_and_checks_sizes():
    a = generate_sort_of_clevr(3, np.random.default_rng(5))
    b = generate_sort_of_clevr(3, np.random.default_rng(5))
    assert np.array_equal(a["images"], b["images"]) and np.array_equal(a["answer"], b["answer"])
    with pytest.raises(ValueError, match="object_size"):
        generate_sort_of_clevr(1, np.random.default_rng(0), image_size=20, object_size=5)
    with pytest.raises(ValueError, match="n_images"):
        generate_sort_of_clevr(0, np.random.default_rng(0))
    # one seed convention: an int seeds a generator (same int, same images); others refused
    a, b = generate_sort_of_clevr(2, 7), generate_sort_of_clevr(2, np.random.default_rng(7))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    with pytest.raises(TypeError, match="rng"):
        generate_sort_of_clevr(1, "seed")
    with pytest.raises(ValueError, match="rng"):
        generate_sort_of_clevr(1, -1)
