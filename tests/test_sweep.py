"""neuromem sweep / experiments.sweep: a real Dask scheduler and two workers on 127.0.0.1 give
the runs of a local cluster and of `experiments.run`; a killed worker loses no run; resume;
failed runs are recorded; bad input exits 2 before any work."""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from neuromem import experiments
from neuromem.cli import main
from neuromem.experiments.sweep import parse_grid, parse_seeds

GRID = ["--grid", "n_pairs=200,400", "--seeds", "0-1"]
POINTS = [(n, s) for n in (200, 400) for s in (0, 1)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Cluster:
    """A `dask scheduler` on 127.0.0.1 and `dask worker` processes (one thread each, no nanny:
    a killed worker stays dead), started in ``home`` so that nothing depends on the tests'
    working directory; every process writes to ``home/dask.log``."""

    def __init__(self, home: Path):
        self.home, self.log_path = home, home / "dask.log"
        self.dask = str(Path(sys.executable).with_name("dask"))
        self.env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                    "MPLBACKEND": "Agg"}  # fmt: skip
        self.log = open(self.log_path, "w")  # closed by close()
        port = _free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        self.procs = [self._start("scheduler", "--host", "127.0.0.1", "--port", str(port))]
        self.workers: dict[str, subprocess.Popen] = {}

    def _start(self, *args: str) -> subprocess.Popen:
        cmd = [self.dask, *args, "--no-dashboard"]
        return subprocess.Popen(cmd, cwd=self.home, env=self.env, stdout=self.log,
                                stderr=subprocess.STDOUT)  # fmt: skip

    def add_worker(self, memory_limit: str = "0") -> str:
        """Start a worker (``memory_limit`` as `dask worker --memory-limit`; "0": Dask never
        pauses it for memory, whatever the machine's share per core) and return its address."""
        wport = _free_port()
        w = self._start("worker", self.address, "--nthreads", "1", "--no-nanny", "--host",
                        "127.0.0.1", "--worker-port", str(wport), "--memory-limit", memory_limit,
                        "--name", f"w{len(self.workers)}",
                        "--local-directory", str(self.home))  # fmt: skip
        self.workers[f"tcp://127.0.0.1:{wport}"] = w
        self.procs.append(w)
        return f"tcp://127.0.0.1:{wport}"

    def wait_for_workers(self) -> None:
        from distributed import Client

        with Client(self.address, timeout=60) as c:  # running or paused: every one counts
            deadline = time.monotonic() + 90
            while set(c.scheduler_info()["workers"]) != set(self.workers):
                assert time.monotonic() < deadline, self.log_path.read_text()[-3000:]
                time.sleep(0.1)

    def close(self) -> None:
        for p in reversed(self.procs):
            p.kill()
            p.wait(timeout=30)
        self.log.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``(address, {worker address: process}, log path)``: a scheduler and two workers."""
    c = _Cluster(tmp_path_factory.mktemp("dask"))
    try:
        c.add_worker()
        c.add_worker()
        c.wait_for_workers()
        yield c.address, c.workers, c.log_path
    finally:
        c.close()


def _csv(path: Path) -> list[dict]:
    with open(path) as fh:
        return list(csv.DictReader(fh))


def _direct(n_pairs: int, seed: int) -> dict:
    return experiments.run("sdr-overlap", n_pairs=n_pairs, seed=seed)


def test_cluster_sweep_equals_local_sweep_and_run(cluster, tmp_path, capsys):
    address = cluster[0]
    out = tmp_path / "cluster"
    assert main(["sweep", "sdr-overlap", *GRID, "--scheduler", address, "--out", str(out),
                 "--no-progress"]) == 0  # fmt: skip
    assert "4 runs: 4 ran, 0 skipped" in capsys.readouterr().out
    rows = _csv(out / "summary.csv")
    assert [(int(r["n_pairs"]), int(r["seed"])) for r in rows] == POINTS
    assert list(rows[0])[:5] == ["point", "n_pairs", "seed", "status", "error"]

    local = experiments.sweep("sdr-overlap", grid={"n_pairs": [200, 400]}, seeds=[0, 1],
                              workers=2, out=tmp_path / "local", progress=False)  # fmt: skip
    assert [(r["n_pairs"], r["seed"], r["status"]) for r in local] == [(*p, "ran") for p in POINTS]
    for row, lrow, (n, s) in zip(rows, local, POINTS):
        direct = _direct(n, s)
        metrics = direct["metrics"]
        assert len(metrics) == 10
        for k, v in metrics.items():
            # summary.csv holds every scalar metric exactly (repr of the float)
            assert float(row[k]) == v, (n, s, k)
            assert lrow[k] == v, (n, s, k)
        for where in (out, tmp_path / "local"):
            res = json.loads((where / f"n_pairs={n}" / f"seed-{s}" / "result.json").read_text())
            assert res["metrics"] == metrics
            assert res["config"] == direct["config"] and res["seed"] == s
            assert (where / f"n_pairs={n}" / f"seed-{s}" / "overlap_pmf.png").is_file()
    meta = json.loads((out / "sweep.json").read_text())
    assert meta["sweep"]["grid"] == {"n_pairs": [200, 400]} and meta["sweep"]["seeds"] == [0, 1]
    assert meta["scheduler"] == address and meta["counts"] == {"ran": 4, "skipped": 0, "failed": 0}
    assert meta["versions"]["neuromem"] and meta["versions"]["distributed"]
    assert (out / "summary.png").stat().st_size > 10_000


def test_failed_run_is_recorded_and_resume_skips_finished_runs(cluster, tmp_path):
    address = cluster[0]
    out = tmp_path / "s"
    # the folder of one run is taken by a file: that run fails on its worker, the others run
    (out / "n_pairs=400").mkdir(parents=True)
    (out / "n_pairs=400" / "seed-1").write_text("in the way")
    kw = dict(grid={"n_pairs": "200,400"}, seeds="0-1", scheduler=address, out=out,
              progress=False)  # fmt: skip
    rows = experiments.sweep("sdr-overlap", **kw)
    assert [r["status"] for r in rows] == ["ran", "ran", "ran", "failed"]
    assert "not a folder" in rows[3]["error"] and "expected_overlap_measured" not in rows[3]
    meta = json.loads((out / "sweep.json").read_text())
    assert meta["counts"] == {"ran": 3, "skipped": 0, "failed": 1}
    assert "Traceback" in meta["failures"][0]["traceback"]
    assert _csv(out / "summary.csv")[3]["status"] == "failed"

    # the same sweep again: the finished runs are skipped (untouched), the failed one runs
    (out / "n_pairs=400" / "seed-1").unlink()
    first = out / "n_pairs=200" / "seed-0" / "result.json"
    stamp = first.stat().st_mtime_ns
    rows = experiments.sweep("sdr-overlap", **kw)
    assert [r["status"] for r in rows] == ["skipped", "skipped", "skipped", "ran"]
    assert first.stat().st_mtime_ns == stamp
    assert (
        rows[3]["expected_overlap_measured"]
        == _direct(400, 1)["metrics"]["expected_overlap_measured"]
    )
    assert all(r["expected_overlap_measured"] is not None for r in rows)

    # a result.json of another config is not a finished run of this sweep: it is run again
    res = json.loads(first.read_text())
    res["config"]["size"] = 2048
    first.write_text(json.dumps(res))
    rows = experiments.sweep("sdr-overlap", **kw)
    assert [r["status"] for r in rows] == ["ran", "skipped", "skipped", "skipped"]
    assert json.loads(first.read_text())["config"]["size"] == 1024


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--grid", "nope=1,2"], "unknown config key 'nope'"),
        (["--grid", "n_pairs=abc"], "n_pairs: expected int"),
        (["--grid", "n_pairs=100,0"], "n_pairs=0: sdr-overlap: n_pairs must be >= 1"),
        (["--grid", "n_pairs"], "--grid: expected KEY=V1,V2"),
        (["--grid", "n_pairs=100,100"], "given twice"),
        (["--grid", "n_pairs=1", "--set", "n_pairs=2"], "also given with --set"),
        (["--seeds", "3-1"], "--seeds: empty range"),
        (["--seeds", "0,x"], "--seeds: expected non-negative integers"),
        (["--scheduler", "nowhere"], "--scheduler: expected 'local' or an address"),
        (["--workers", "0"], "--workers: expected an integer >= 1"),
        (["--config", "sparsey-mnist"], "preset is for experiment 'sparsey-mnist'"),
    ],
)
def test_bad_input_exits_2_with_one_line_before_any_work(args, needle, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", "sdr-overlap", *args, "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("neuromem: error: ") and needle in err, err
    assert not out.exists()


def test_parse_seeds_and_grid():
    assert parse_seeds("0-3,7") == [0, 1, 2, 3, 7] and parse_seeds(5) == [5]
    assert parse_seeds(range(2)) == [0, 1]
    assert parse_grid(["a=1,2", "loads=[[2,4],[8]]"]) == {"a": ["1", "2"], "loads": [[2, 4], [8]]}
    with pytest.raises(ValueError, match="seed 1 given twice"):
        parse_seeds([1, 0, 1])


def test_paused_workers_are_reported_and_the_sweep_finishes_when_a_worker_joins(
    tmp_path, monkeypatch
):
    """A cluster whose only worker Dask has paused for memory (`--memory-limit` far below the
    process's size) can take no run: the sweep warns once that it waits and why, and finishes
    when a worker that can take runs joins. The local cluster never pauses (memory_limit=0)."""
    import importlib
    import warnings

    sweep_mod = importlib.import_module("neuromem.experiments.sweep")  # the module, not sweep()
    monkeypatch.setattr(sweep_mod, "STALL_CHECK_S", 0.5)
    (tmp_path / "dask").mkdir()
    c = _Cluster(tmp_path / "dask")
    try:
        paused = c.add_worker(memory_limit="10MB")
        c.wait_for_workers()
        from distributed import Client

        with Client(c.address, timeout=30) as client:
            deadline = time.monotonic() + 60
            while client.scheduler_info()["workers"][paused]["status"] != "paused":
                assert time.monotonic() < deadline, "the 10 MB worker was never paused"
                time.sleep(0.1)
        box: dict = {}

        def go():
            try:
                box["rows"] = experiments.sweep("sdr-overlap", grid={"n_pairs": [200]},
                                                seeds=[0], scheduler=c.address,
                                                out=tmp_path / "p", progress=False)  # fmt: skip
            except BaseException as e:  # pragma: no cover - reported below
                box["error"] = e

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            thread = threading.Thread(target=go)
            thread.start()
            deadline = time.monotonic() + 60
            while not caught and thread.is_alive() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert thread.is_alive() and "error" not in box, box  # no run could finish
            stalls = [str(w.message) for w in caught if "no run can start" in str(w.message)]
            assert len(stalls) == 1 and "paused" in stalls[0] and "--memory-limit 0" in stalls[0]
            c.add_worker()  # memory limit 0
            thread.join(timeout=120)
        assert not thread.is_alive() and "error" not in box, box.get("error")
        assert [r["status"] for r in box["rows"]] == ["ran"]
        assert len([w for w in caught if "no run can start" in str(w.message)]) == 1  # once
    finally:
        c.close()


def test_killed_worker_loses_no_run(cluster, tmp_path):
    """A worker killed (SIGKILL) while it runs a point: the scheduler moves the point to the
    other worker, and the run gives what `experiments.run` gives. Runs last, as it leaves the
    cluster with one worker."""
    from distributed import Client

    address, workers, dask_log = cluster
    out = tmp_path / "k"
    box: dict = {}

    def go():
        try:
            box["rows"] = experiments.sweep("sdr-overlap", grid={"n_pairs": [20000, 30000]},
                                            seeds=[0, 1], scheduler=address, out=out,
                                            progress=False)  # fmt: skip
        except BaseException as e:  # pragma: no cover - reported below
            box["error"] = e

    thread = threading.Thread(target=go)
    thread.start()
    killed = None
    with Client(address, timeout=30) as c:
        deadline = time.monotonic() + 120
        while killed is None and thread.is_alive() and time.monotonic() < deadline:
            started = any(out.glob("*/seed-*/result.json"))
            busy = {w: keys for w, keys in c.processing().items() if keys}
            if started and busy:
                victim, keys = next(iter(busy.items()))
                workers[victim].kill()
                workers[victim].wait(timeout=30)
                killed = keys
            time.sleep(0.02)
    thread.join(timeout=600)  # a loaded CI machine runs the four points slowly
    if thread.is_alive():  # say where it stands: the scheduler's view and the Dask log
        with Client(address, timeout=30) as c:
            state = {"processing": c.processing(), "who_has": c.who_has(),
                     "workers": {a: w.get("status") for a, w
                                 in c.scheduler_info()["workers"].items()}}  # fmt: skip
        pytest.fail(f"the sweep did not finish within 600 s after killing {killed}; scheduler: "
                    f"{state}; finished: {sorted(map(str, out.glob('*/seed-*/result.json')))}; "
                    f"Dask log (tail):\n{dask_log.read_text()[-6000:]}")  # fmt: skip
    assert "error" not in box, box.get("error")
    assert killed, "the sweep ended before a worker could be killed"
    rows = box["rows"]
    assert [r["status"] for r in rows] == ["ran"] * 4, rows
    # a run that the dead worker held: finished elsewhere, equal to a direct run
    lost = [r for r in rows if any(f"-{r['point']}-seed-{r['seed']}-" in k for k in killed)]
    assert lost, killed
    direct = _direct(lost[0]["n_pairs"], lost[0]["seed"])["metrics"]
    assert {k: lost[0][k] for k in direct} == direct
    assert not list(out.glob("*/.seed-*.partial-*")), "a killed run's staging folder is left"
    shutil.rmtree(out)
