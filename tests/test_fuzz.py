"""Fuzz suite of issue 17: generated bad input against the command and the public API.

The promise (DEVELOPERS.md, issue 17): bad input gets a clear error naming the argument (or
the file and line), before work starts, and loses nothing. For the command: exit status 2,
at most two lines on standard error, no traceback, no ``--out`` folder left behind. For the
Python API: :class:`ValueError` or :class:`TypeError` whose message names the argument.

Inputs are generated with hypothesis (derandomized: the same examples on every run, so CI is
deterministic): wrong types, non-finite numbers, out-of-range and memory-exceeding sizes, and
corrupted copies of small generated data files (MNIST IDX gz, knowledge-graph triples,
bAbI text, ``.npz`` saves). The command runs in-process (``neuromem.cli.main``) for the many
cases and as ``python -m neuromem`` for a handful. The whole file takes well under a minute
on one core.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuromem.cli import main

#: deterministic, fast hypothesis settings (function-scoped tmp folders are reused on purpose:
#: every example writes its own sub-folder)
FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FEW = settings(FUZZ, max_examples=12)

#: a limit far below any real machine, so that "too large" is the same verdict everywhere
MEMORY_LIMIT = "8G"


@pytest.fixture(autouse=True)
def _fixed_memory_limit(monkeypatch):
    monkeypatch.setenv("NEUROMEM_MEMORY_LIMIT", MEMORY_LIMIT)
    monkeypatch.delenv("NEUROMEM_DEBUG", raising=False)
    monkeypatch.delenv("NEUROMEM_DATA", raising=False)


_counter = iter(range(10**9))


def _fresh(base: Path, stem: str) -> Path:
    """A new, not yet existing path under ``base`` (one per hypothesis example)."""
    return base / f"{stem}-{next(_counter)}"


def run_cli(args: list[str]) -> tuple[int, str]:
    """``neuromem ARGS`` in-process: (exit status, standard error)."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            rc = main(args)
        except SystemExit as e:  # argparse errors exit
            rc = e.code
    return rc, err.getvalue()


def assert_refused(rc: int, err: str, out: Path | None = None) -> None:
    lines = err.strip().splitlines()
    assert rc == 2, f"exit {rc}, stderr: {err!r}"
    assert 1 <= len(lines) <= 2, lines
    assert "Traceback" not in err
    assert lines[0].startswith(("neuromem: error:", "neuromem run: error:", "usage:")) or (
        "error:" in lines[-1]
    ), lines
    if out is not None:
        assert not out.exists(), f"{out} left behind"
        assert not [p for p in out.parent.iterdir() if ".partial-" in p.name]


# --------------------------------------------------------------------------- values
NON_FINITE = ["nan", "inf", "-inf", "1e999", "-1e999", "NaN", "+inf"]
NOT_A_NUMBER = ["abc", "", "[1, 2]", "{}", "1,5", "0x", "one"]
NEGATIVE = ["-1", "-5", "-1000"]
HUGE = ["1000000000000", "10000000000000000"]
FRACTION = ["1.5", "2.7", "0.5"]

# field -> values every one of which that experiment must refuse (ints: non-integers, negatives
# and memory-exceeding sizes; floats: non-finite and not-a-number)
INT_SIZE = NON_FINITE + NOT_A_NUMBER + NEGATIVE + HUGE + FRACTION
INT_ANY = NON_FINITE + NOT_A_NUMBER + NEGATIVE + FRACTION
FLOAT_POS = NON_FINITE + NOT_A_NUMBER + NEGATIVE

BAD_SETS = {
    "sdr-overlap": {
        "size": INT_SIZE,
        "n_active": INT_SIZE,
        "Q": INT_SIZE,
        "n_pairs": INT_SIZE,
        "K": INT_ANY + ["0", "1"],
    },
    "ca3-functional": {"spacing": INT_SIZE + ["0", "6", "100000000"]},
    "ca3-statemap": {
        "side": INT_SIZE,
        "n_flags": INT_SIZE,
        "gap": INT_SIZE,
        "flags_per_cell": INT_SIZE,
    },
    "ca3-capacity": {
        "modes": ["[]", "x", "[1]"],
        "loads": ["[]", "[0]", "[17]", "[1.5]", "nan"],
        "n_cues": INT_SIZE,
        "n_content": INT_SIZE,
        "active": INT_SIZE,
        "gap": INT_SIZE,
    },
    "memory-compare": {
        "n_synapses": INT_SIZE,
        "n_probe": INT_SIZE,
        "item_size": INT_SIZE,
        "cue_drop": FLOAT_POS,
    },
    # sizes of tensorbrain-scenes: values every version of its config refuses (its memory
    # estimate is being rewritten with the experiment, issue 16)
    "tensorbrain-scenes": {
        "n_train": INT_ANY,
        "n_test": INT_ANY,
        "world.n_entities": INT_ANY,
        "world.feature_dim": INT_ANY,
        "fit.lr": FLOAT_POS + ["0"],
        "fit.weight_decay": FLOAT_POS,
        "world.noise": FLOAT_POS,
        "fit.epochs": INT_ANY + ["0"],
    },
}
SET_CASES = [
    (exp, key, value)
    for exp, fields in BAD_SETS.items()
    for key, values in fields.items()
    for value in values
]


@settings(FUZZ, max_examples=60)
@given(case=st.sampled_from(SET_CASES))
def test_command_refuses_bad_set_values(tmp_path, case):
    exp, key, value = case
    out = _fresh(tmp_path, "out")
    rc, err = run_cli(["run", exp, "--set", f"{key}={value}", "--out", str(out), "--no-progress"])
    assert_refused(rc, err, out)
    assert key.split(".")[-1] in err or "needs about" in err or "--set" in err, err


@FEW
@given(
    args=st.lists(
        st.sampled_from(
            [
                ["--seed", "-1"],
                ["--seed", "1.5"],
                ["--seed", "nan"],
                ["--backend", "no-such-backend"],
                ["--set", "no_such_key=1"],
                ["--set", "=1"],
                ["--set", "size"],
                ["--config", "no-such-preset"],
                ["--figure-format", "bmp"],
                ["--data", "/no/such/dir"],
            ]
        ),
        min_size=1,
        max_size=3,
    )
)
def test_command_refuses_bad_options(tmp_path, args):
    flat = [a for pair in args for a in pair]
    if flat.count("--data") and all(a[0] == "--data" for a in args):
        flat += ["--set", "size=-1"]  # sdr-overlap needs no data: make sure something is bad
    out = _fresh(tmp_path, "out")
    rc, err = run_cli(["run", "sdr-overlap", *flat, "--out", str(out), "--no-progress"])
    assert_refused(rc, err, out)


# --------------------------------------------------------------------------- data files
def _kg_folder(base: Path) -> Path:
    """A tiny valid knowledge graph ``base/kg/nations/{train,valid,test}.txt``."""
    d = base / "kg" / "nations"
    d.mkdir(parents=True)
    ents = [f"e{i}" for i in range(12)]
    rows = [f"{ents[i % 12]}\tr{i % 3}\t{ents[(i * 5 + 1) % 12]}" for i in range(30)]
    for split, part in (("train", rows[:20]), ("valid", rows[20:25]), ("test", rows[25:])):
        (d / f"{split}.txt").write_text("\n".join(part) + "\n", encoding="utf-8")
    return d


KG_DAMAGE = st.sampled_from(
    [
        "empty",
        "spaces",
        "two_columns",
        "four_columns",
        "empty_column",
        "non_utf8",
        "binary",
        "missing",
        "folder",
    ]
)


def _damage_kg(d: Path, split: str, how: str, line: int) -> None:
    p = d / f"{split}.txt"
    lines = p.read_text(encoding="utf-8").splitlines()
    line %= len(lines)
    if how == "empty":
        p.write_text("\n\n")
    elif how == "spaces":
        lines[line] = lines[line].replace("\t", " ")
        p.write_text("\n".join(lines) + "\n")
    elif how == "two_columns":
        lines[line] = "\t".join(lines[line].split("\t")[:2])
        p.write_text("\n".join(lines) + "\n")
    elif how == "four_columns":
        lines[line] += "\textra"
        p.write_text("\n".join(lines) + "\n")
    elif how == "empty_column":
        h, r, t = lines[line].split("\t")
        lines[line] = f"{h}\t \t{t}"
        p.write_text("\n".join(lines) + "\n")
    elif how == "non_utf8":
        p.write_bytes(p.read_bytes() + b"e1\tr\xff\xfe\te2\n")
    elif how == "binary":
        p.write_bytes(bytes(range(256)))
    elif how == "missing":
        p.unlink()
    elif how == "folder":
        p.unlink()
        p.mkdir()


@FEW
@given(
    split=st.sampled_from(["train", "valid", "test"]),
    how=KG_DAMAGE,
    line=st.integers(0, 100),
)
def test_command_refuses_corrupt_knowledge_graphs(tmp_path, split, how, line):
    from neuromem.datasets.kg import load_kg

    base = _fresh(tmp_path, "data")
    d = _kg_folder(base)
    _damage_kg(d, split, how, line)
    with pytest.raises((ValueError, OSError)) as e:
        load_kg(d)
    assert f"{split}" in str(e.value)  # the message names the file
    out = _fresh(tmp_path, "out")
    args = ["run", "tensorbrain-kg", "--data", str(base), "--set", "dataset=nations"]
    rc, err = run_cli([*args, "--out", str(out), "--no-progress"])
    assert_refused(rc, err, out)
    assert f"{split}" in err


def _idx_bytes(arr: np.ndarray) -> bytes:
    head = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in arr.shape)
    return head + arr.astype(np.uint8).tobytes()


def _mnist_folder(base: Path, n: int = 20) -> Path:
    d = base / "mnist"
    d.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28))
    labels = np.arange(n) % 10
    with gzip.open(d / "t10k-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(_idx_bytes(images))
    with gzip.open(d / "t10k-labels-idx1-ubyte.gz", "wb") as fh:
        fh.write(_idx_bytes(labels))
    return d


@FUZZ
@given(
    which=st.sampled_from(["images", "labels"]),
    how=st.sampled_from(["truncate_gz", "truncate_idx", "magic", "type", "count", "empty"]),
    cut=st.floats(0.0, 0.99),
)
def test_corrupt_mnist_files_raise_value_error_naming_the_file(tmp_path, which, how, cut):
    from neuromem.datasets.mnist import load_mnist

    d = _mnist_folder(_fresh(tmp_path, "data"))
    name = f"t10k-{which}-idx{3 if which == 'images' else 1}-ubyte.gz"
    p = d / name
    raw = gzip.decompress(p.read_bytes())
    if how == "truncate_gz":
        data = p.read_bytes()
        p.write_bytes(data[: int(len(data) * cut)])
    elif how == "empty":
        p.write_bytes(b"")
    else:
        if how == "truncate_idx":
            raw = raw[: max(1, int(len(raw) * cut))]
        elif how == "magic":
            raw = b"\x01" + raw[1:]
        elif how == "type":
            raw = raw[:2] + b"\x07" + raw[3:]
        else:  # the count in the header disagrees with the data
            raw = raw[:4] + (int.from_bytes(raw[4:8], "big") + 1).to_bytes(4, "big") + raw[8:]
        p.write_bytes(gzip.compress(raw))
    with pytest.raises(ValueError, match="t10k-"):
        load_mnist(d)


BABI_OK = """1 Mary moved to the bathroom.
2 John went to the hallway.
3 Where is Mary?\tbathroom\t1
4 Daniel went back to the hallway.
5 Where is Daniel?\thallway\t4
"""

BABI_DAMAGE = {
    "no_answer": "3 Where is Mary?\t\t1",
    "no_id": "Where is Mary?\tbathroom\t1",
    "bad_support": "3 Where is Mary?\tbathroom\tx",
    "support_below": "3 Where is Mary?\tbathroom\t4",
    "skipped_id": "7 Where is Mary?\tbathroom\t1",
    "empty_question": "3 \tbathroom\t1",
}


@FUZZ
@given(how=st.sampled_from([*BABI_DAMAGE, "empty", "non_utf8"]))
def test_corrupt_babi_files_raise_value_error_naming_file_and_line(tmp_path, how):
    from neuromem.datasets.babi import read_babi_file

    p = _fresh(tmp_path, "qa1_test").with_suffix(".txt")
    if how == "empty":
        p.write_text("")
    elif how == "non_utf8":
        p.write_bytes(BABI_OK.encode() + b"6 Mary \xff\xfe went home.\n")
    else:
        lines = BABI_OK.splitlines()
        lines[2] = BABI_DAMAGE[how]
        p.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=p.name + (":3" if how in BABI_DAMAGE else "")):
        read_babi_file(p)


# --------------------------------------------------------------------------- saved files
def _saved(kind: str, folder: Path) -> tuple[type, Path]:
    from neuromem.ca3 import CA3Memory
    from neuromem.memory.willshaw import WillshawMemory
    from neuromem.tensorbrain import TensorModel
    from neuromem.tensorbrain.decoder import TensorBrain

    if kind == "willshaw":
        m = WillshawMemory(16, 3, seed=0)
        m.store(m.random_items(2, np.random.default_rng(0)))
    elif kind == "tensor_model":
        m = TensorModel("distmult", 5, 2, dim=4)
    elif kind == "decoder":
        m = TensorBrain(5, 2, n_sensory=3, dim=4)
        m.store_episode(np.ones((2, 3)))
    else:
        m = CA3Memory(3, 4)
        m.learn(0, [1, 0, 1, 0])
    return type(m), m.save(folder / "saved")


SAVED_KINDS = ["willshaw", "tensor_model", "decoder", "ca3"]


@FUZZ
@given(
    kind=st.sampled_from(SAVED_KINDS),
    how=st.sampled_from(["truncate", "flip", "empty", "zeros"]),
    where=st.floats(0.0, 1.0, exclude_max=True),
    byte=st.integers(1, 255),
)
def test_corrupt_saves_load_whole_or_raise_value_error_naming_the_file(
    tmp_path, kind, how, where, byte
):
    folder = _fresh(tmp_path, "save")
    folder.mkdir()
    cls, p = _saved(kind, folder)
    data = bytearray(p.read_bytes())
    at = int(where * len(data))
    if how == "truncate":
        data = data[:at]
    elif how == "flip":
        data[at] ^= byte
    elif how == "empty":
        data = bytearray()
    else:
        data[at : at + 64] = bytes(min(64, len(data) - at))
    p.write_bytes(bytes(data))
    try:
        loaded = cls.load(folder / "saved")  # the name it was saved under, without .npz
    except ValueError as e:
        assert "saved.npz" in str(e)
        return
    # a change the format cannot see (a zip header field, say): what loads is whole
    params = getattr(loaded, "params", None) or {}
    assert all(np.all(np.isfinite(v)) for v in params.values())


# --------------------------------------------------------------------------- public API
BAD_FLOATS = st.one_of(
    st.sampled_from([float("nan"), float("inf"), -float("inf"), -1.0, -1e-9]),
    st.floats(max_value=-1e-300),
)
WRONG_TYPES = st.sampled_from(["0.1", None, [0.1], {"lr": 1}, b"1", 1j])


@FUZZ
@given(
    name=st.sampled_from(["lr", "reg", "smoothing", "time_budget", "epochs", "batch_size"]),
    value=st.one_of(BAD_FLOATS, WRONG_TYPES),
)
def test_tensor_model_fit_refuses_bad_hyper_parameters(name, value):
    from neuromem.tensorbrain import TensorModel

    if name == "time_budget" and value is None:
        return  # None is the default (no budget)
    m = TensorModel("distmult", 4, 2, dim=4, seed=0)
    with pytest.raises((ValueError, TypeError), match=name):
        m.fit(np.array([[0, 0, 1], [1, 1, 2]]), **{"epochs": 1, name: value})
    assert m.history == []


@FUZZ
@given(
    name=st.sampled_from(["lr", "weight_decay", "time_budget", "epochs", "batch_size"]),
    value=st.one_of(BAD_FLOATS, WRONG_TYPES),
)
def test_decoder_fit_refuses_bad_hyper_parameters(name, value):
    from neuromem.tensorbrain.decoder import TRIPLE_PLAN, Task, TensorBrain

    if name == "time_budget" and value is None:
        return
    tb = TensorBrain(4, 2, dim=4, seed=0)
    t = np.array([[0, 0, 1], [1, 1, 2]])
    task = Task("pre", TRIPLE_PLAN, [t[:, 0], t[:, 2], t[:, 1]])
    with pytest.raises((ValueError, TypeError), match=name):
        tb.fit([task], **{"epochs": 1, name: value})
    assert tb.history == []


@FUZZ
@given(ranks=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=6))
def test_rank_metrics_either_well_defined_or_refused(ranks):
    from neuromem.tensorbrain.evaluation import rank_metrics

    ok = all(np.isfinite(r) and r >= 1 for r in ranks)
    if ok:
        m = rank_metrics(ranks)
        assert 0 < m["mrr"] <= 1 and all(np.isfinite(v) for v in m.values())
    else:
        with pytest.raises(ValueError, match="ranks"):
            rank_metrics(ranks)


@FUZZ
@given(data=st.data())
def test_paired_overlap_is_exact_or_refused(data):
    from neuromem import sdr

    n = data.draw(st.integers(1, 4))
    width = data.draw(st.integers(1, 5))
    rows = data.draw(
        st.lists(st.lists(st.integers(-2, 12), min_size=width, max_size=width), min_size=n,
                 max_size=n)
    )  # fmt: skip
    lengths = data.draw(st.lists(st.integers(-1, width + 2), min_size=1, max_size=n + 1))
    ind = np.array(rows)
    good = sdr.stack_sdrs([sdr.SDR(sorted({abs(x) for x in r}), 13) for r in rows])
    try:
        got = sdr.paired_overlap(ind, lengths, good[0], good[1])
    except (ValueError, TypeError) as e:
        assert any(a in str(e) for a in ("ind_a", "len_a", "ind_b", "len_b")), str(e)
        return
    # accepted: the rows were valid, and the answer is the set intersection
    for r, (row, k) in enumerate(zip(rows, lengths)):
        a = set(row[:k])
        assert len(a) == k and sorted(a) == row[:k] and all(x >= 0 for x in a)
        assert got[r] == len(a & set(good[0][r, : good[1][r]].tolist()))


@FEW
@given(
    fn=st.sampled_from(["overlap_pmf", "modular_overlap_pmf", "to_dense"]),
    size=st.sampled_from([10**12, 10**15, 2**62]),
)
def test_sdr_sizes_beyond_memory_are_refused_quickly(fn, size):
    from neuromem import sdr

    with pytest.raises(ValueError, match="needs about .*this machine has 8.0 GiB"):
        if fn == "overlap_pmf":
            sdr.overlap_pmf(size * 4, size)
        elif fn == "modular_overlap_pmf":
            sdr.modular_overlap_pmf(size, 3)
        else:
            sdr.SDR([0, 1], size).to_dense()


ROW = st.tuples(
    st.one_of(st.integers(0, 40), st.sampled_from([10**12, 10**8])),
    st.sampled_from(["INcue", "INcont", "OUTcue", "OUTcont", "CA3MergeCue", "CA3contCond"]),
    st.one_of(st.integers(0, 6), st.sampled_from([100_000])),
)


@FUZZ
@given(
    rows=st.lists(ROW, min_size=1, max_size=12, unique=True),
    cues=st.sampled_from([None, 3, 5, 0, -1]),
)
def test_ca3_replay_of_generated_traces_runs_or_refuses(tmp_path, rows, cues):
    """Any trace: a replay, or exit 2 naming the problem; never a wider network or a hang."""
    trace = _fresh(tmp_path, "trace").with_suffix(".csv")
    trace.write_text("time_ms,population,neuron\n" + "".join(f"{t},{p},{i}\n" for t, p, i in rows))
    out = _fresh(tmp_path, "replayed").with_suffix(".csv")
    args = ["ca3", "replay", "--trace", str(trace), "--out", str(out)]
    if cues is not None:
        args += ["--cues", str(cues)]
    rc, err = run_cli(args)
    top = {}
    for _, pop, i in rows:
        top[pop] = max(top.get(pop, -1), i)
    c = (top.get("INcue", 0) + 1) if cues is None else cues
    n = top.get("INcont", 0) + 1
    last_in = max((t for t, p, _ in rows if p in ("INcue", "INcont")), default=None)
    fits = (
        last_in is not None
        and last_in + 10 <= 10**7
        and c >= 1
        and all(top.get(p, -1) < c for p in ("INcue", "OUTcue", "CA3MergeCue"))
        and all(top.get(p, -1) < n for p in ("INcont", "OUTcont", "CA3contCond"))
        and 128 * (3 * c * n + 2 * c * c) < 8 * 2**30
    )
    if fits:
        assert rc == 0, err
        from neuromem.ca3 import read_trace

        got = read_trace(out)  # the replay has the memory's size, not a wider one
        assert got.max_index(("OUTcue", "CA3MergeCue", "INcue")) < c
        assert got.max_index(("OUTcont", "INcont")) < n
    else:
        assert_refused(rc, err, out)


# --------------------------------------------------------------------------- the real command
def _python_m(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NEUROMEM_MEMORY_LIMIT=MEMORY_LIMIT, MPLBACKEND="Agg")
    env.pop("NEUROMEM_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "neuromem", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_python_m_neuromem_refuses_bad_input_as_a_new_user_would(tmp_path):
    data = tmp_path / "data"
    _damage_kg(_kg_folder(data), "valid", "spaces", 2)
    _mnist_folder(data)
    p = data / "mnist" / "t10k-labels-idx1-ubyte.gz"
    p.write_bytes(p.read_bytes()[:15])  # a truncated download
    trace = tmp_path / "trace.csv"
    trace.write_text("time_ms,population,neuron\n0,INcue,100000\n0,INcont,0\n")
    cases = [
        ["run", "sdr-overlap", "--set", "size=1000000000000"],
        ["run", "ca3-functional", "--set", "spacing=100000000"],
        ["run", "tensorbrain-kg", "--data", str(data), "--set", "dataset=nations"],
        ["run", "sparsey-mnist", "--data", str(data)],
        ["run", "tensorbrain-scenes", "--set", "fit.lr=inf"],
        ["ca3", "replay", "--trace", str(trace), "--out", "__OUT__"],
    ]
    for i, args in enumerate(cases):
        out = tmp_path / f"out{i}"
        if "__OUT__" in args:
            args = [str(out) if a == "__OUT__" else a for a in args]
        else:
            args = [*args, "--out", str(out), "--no-progress"]
        res = _python_m(args, tmp_path)
        assert_refused(res.returncode, res.stderr, out)
