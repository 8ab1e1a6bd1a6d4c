"""The command's error boundary and its ``--out`` hygiene (issue 17, item 1).

A run writes into a staging folder and only a finished run is moved into ``--out``: a failed
or interrupted run creates no ``--out`` folder and leaves a previous run's files as they were;
``result.json`` is standard JSON with the figures' file mode; data and output errors end with
exit status 2 and one line; SIGTERM ends like Ctrl-C.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from neuromem import experiments
from neuromem.cli import main
from neuromem.errors import ConfigError
from neuromem.experiments import _registry


@dataclass
class _C:
    value: float = 1.0


@pytest.fixture
def temp_experiments():
    """Register throw-away experiments; remove them afterwards."""
    added = []

    def add(name, func, **kw):
        _registry.register(name, config=_C, description="test", **kw)(func)
        added.append(name)

    yield add
    for n in added:
        _registry._REGISTRY.pop(n, None)


def _partials(folder):
    return [p for p in os.listdir(folder) if ".partial-" in p]


def test_failed_run_creates_no_out_folder_and_keeps_the_previous_run(
    tmp_path, capsys, temp_experiments
):
    calls = {"fail": False}

    def exp(cfg, ctx):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, cfg.value])
        ctx.save_figure(fig, "line")
        if calls["fail"]:
            raise ValueError("data.txt, line 3: not a number")
        return {"value": cfg.value, "inf": float("inf")}

    temp_experiments("test-out-hygiene", exp)
    out = tmp_path / "a" / "b"
    calls["fail"] = True
    assert main(["run", "test-out-hygiene", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["neuromem: error: data.txt, line 3: not a number"]
    assert not (tmp_path / "a").exists()  # not even the parent folder
    assert _partials(tmp_path) == []

    calls["fail"] = False
    assert main(["run", "test-out-hygiene", "--out", str(out), "--no-progress"]) == 0
    first = (out / "result.json").read_text()
    res = json.loads(first)  # standard JSON: Infinity would not parse in strict readers
    assert res["metrics"]["inf"] is None and "Infinity" not in first
    mode = stat.S_IMODE((out / "result.json").stat().st_mode)
    assert mode == stat.S_IMODE((out / "line.png").stat().st_mode)

    calls["fail"] = True
    assert main(["run", "test-out-hygiene", "--out", str(out), "--set", "value=2",
                 "--no-progress"]) == 2  # fmt: skip
    assert (out / "result.json").read_text() == first  # the previous run, untouched
    assert sorted(os.listdir(out)) == ["line.png", "result.json"]


def test_python_callers_get_the_same_staging(tmp_path, temp_experiments):
    def exp(cfg, ctx):
        raise KeyboardInterrupt

    temp_experiments("test-interrupted", exp)
    with pytest.raises(KeyboardInterrupt):
        experiments.run("test-interrupted", out=tmp_path / "r")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "setup, needle",
    [
        ("file", "is not a folder"),
        ("under_file", "which is a file"),
        ("proc", "system folder"),
    ],
)
def test_bad_out_is_refused_before_work(tmp_path, capsys, setup, needle, temp_experiments):
    ran = []
    temp_experiments("test-bad-out", lambda cfg, ctx: ran.append(1) or {})
    (tmp_path / "f").write_text("x")
    out = {"file": tmp_path / "f", "under_file": tmp_path / "f" / "sub", "proc": "/proc/x"}
    assert main(["run", "test-bad-out", "--out", str(out[setup])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and not ran


def test_corrupt_data_file_is_one_line_exit_2(tmp_path):
    """A truncated gzip in the data folder: exit 2, one line naming the file, no traceback,
    no --out folder."""
    mn = tmp_path / "data" / "mnist"
    mn.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                 "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):  # fmt: skip
        (mn / name).write_bytes(gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 64)[:30])
    r = subprocess.run(
        [sys.executable, "-m", "neuromem", "run", "sparsey-mnist", "--data",
         str(tmp_path / "data"), "--out", str(tmp_path / "o"), "--no-progress"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr and "mnist" in lines[0]
    assert not (tmp_path / "o").exists()


def test_demo_goes_on_after_a_failing_experiment(tmp_path, capsys, monkeypatch, temp_experiments):
    def broken(cfg, ctx):
        raise ValueError("qa1_train.txt, line 7: question line without an answer")

    temp_experiments("test-broken-data", broken)
    keep = [e for e in experiments.experiments() if e.name in ("test-broken-data", "sdr-overlap")]
    monkeypatch.setattr(experiments, "experiments", lambda: keep)
    monkeypatch.delenv("NEUROMEM_DATA", raising=False)
    assert main(["demo", "--out", str(tmp_path / "r"), "--no-progress"]) == 2
    cap = capsys.readouterr()
    assert "FAILED: qa1_train.txt, line 7" in cap.out
    assert (tmp_path / "r" / "sdr-overlap" / "result.json").is_file()  # ran after the failure
    assert not (tmp_path / "r" / "test-broken-data").exists()
    assert "1 demo experiment(s) failed" in cap.err


def test_demo_refuses_a_missing_data_folder(tmp_path, capsys):
    assert main(["demo", "--data", str(tmp_path / "no"), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "not found" in err and "--data" in err and not (tmp_path / "r").exists()


def test_sigterm_ends_like_ctrl_c(tmp_path):
    """SIGTERM: exit 143, one line, and no --out folder (the staging folder is removed)."""
    code = (
        "import sys, time\n"
        "from dataclasses import dataclass\n"
        "from neuromem.experiments import _registry\n"
        "from neuromem.cli import main\n"
        "@dataclass\n"
        "class C:\n"
        "    pass\n"
        "def slow(cfg, ctx):\n"
        "    print('started', flush=True)\n"
        "    time.sleep(60)\n"
        "    return {}\n"
        "_registry.register('test-slow', config=C, description='d')(slow)\n"
        f"sys.exit(main(['run', 'test-slow', '--out', {str(tmp_path / 'o')!r}]))\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert p.stdout.readline().strip() == "started"
    p.send_signal(signal.SIGTERM)
    t0 = time.monotonic()
    _, err = p.communicate(timeout=60)
    assert time.monotonic() - t0 < 30
    assert p.returncode == 143, err
    assert err.strip() == "neuromem: terminated"
    assert not (tmp_path / "o").exists() and _partials(tmp_path) == []


def test_figure_format_and_figures_returned_without_out(tmp_path, capsys):
    """--figure-format svg writes SVG; a Python run without out still returns the figures
    (for Jupyter) and renders them inline as HTML."""
    assert main(["run", "sdr-overlap", "--out", str(tmp_path / "o"), "--figure-format", "svg",
                 "--no-progress", "--set", "n_pairs=200"]) == 0  # fmt: skip
    res = json.loads((tmp_path / "o" / "result.json").read_text())
    assert res["figures"] and all(f.endswith(".svg") for f in res["figures"])
    assert (tmp_path / "o" / res["figures"][0]).read_text().lstrip().startswith("<?xml")
    r = experiments.run("sdr-overlap", n_pairs=200)
    assert r["figures"] == [] and set(r.figure_objects) == {"overlap_pmf"}
    html = r._repr_html_()
    assert html.count("data:image/png;base64,") == 1 and "overlap_pmf" in html
    with pytest.raises(SystemExit) as e:  # argparse refuses it: exit 2
        main(["run", "sdr-overlap", "--figure-format", "gif"])
    assert e.value.code == 2
    with pytest.raises(ConfigError, match="--figure-format"):
        experiments.run("sdr-overlap", figure_format="gif")


def test_versions_name_the_commit_of_a_clone():
    v = experiments.versions()
    assert {"numpy", "torch", "pooch", "nest-simulator"} <= set(v)
    commit = v.get("neuromem_git_commit")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(experiments.__file__)))
    if os.path.exists(os.path.join(os.path.dirname(repo), ".git")):
        head = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True,
                              text=True).stdout.strip()  # fmt: skip
        assert commit is not None and commit.split("+")[0] == head
