"""The presets and the sPyNNaker templates ship in the wheel and load outside a clone."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _source_copy(dst: Path) -> Path:
    """The tracked files of the repository (what a clone's archive holds), copied to ``dst``."""
    try:
        files = subprocess.run(
            ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
        ).stdout.split(b"\0")
        files = [f.decode() for f in files if f]
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: cannot tell the tracked files")
    for f in files:
        src = REPO / f
        if src.is_file():
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / f)
    # files added to the package but not committed yet (a developer's working tree)
    for src in (REPO / "neuromem").rglob("*"):
        rel = src.relative_to(REPO)
        if src.is_file() and "__pycache__" not in rel.parts and not (dst / rel).exists():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / rel)
    return dst


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("build")
    src = _source_copy(tmp_path_factory.mktemp("src"))
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--skip-dependency-check",
         "--outdir", str(out), str(src)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (whl,) = out.glob("neuromem-*.whl")
    return whl


def test_wheel_contains_presets_and_templates(wheel):
    from neuromem import presets

    names = set(zipfile.ZipFile(wheel).namelist())
    for p in presets.names():
        assert f"neuromem/presets/{p}.toml" in names, p
    for t in ("virtual-board", "spinn3", "spinn5", "spalloc"):
        assert f"neuromem/presets/spinnaker/{t}.cfg" in names, t
    assert "neuromem/datasets/registry.txt" in names  # the data sets' hashes and sources


def test_installed_wheel_finds_presets_outside_a_clone(wheel, tmp_path):
    target = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    code = (
        "import neuromem, sys\n"
        "from pathlib import Path\n"
        f"assert Path(neuromem.__file__).is_relative_to({str(target)!r}), neuromem.__file__\n"
        "from neuromem import presets, experiments\n"
        "from neuromem.sparsey import Sparsey\n"
        "m = Sparsey.from_preset('sparsey-capacity')\n"
        "assert m.config.levels[0].G_min == 0.9\n"
        "r = experiments.run('sdr-overlap', config_file='sdr-overlap', n_pairs=50)\n"
        "assert r['config']['size'] == 2048\n"
        "assert 'virtual_board = True' in presets.spinnaker_template('virtual-board')\n"
        "from neuromem.datasets import fetch, find_data_dir\n"
        "assert len(fetch.registry()) >= 72\n"
        "assert find_data_dir(beside_clone=True) == (None, None)  # no clone, no cache here\n"
        "from neuromem.cli import main\n"
        "assert main(['data', 'list']) == 0\n"
        "print('ok')\n"
    )
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg",
           "NEUROMEM_CACHE": str(tmp_path / "cache")}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-3000:]
