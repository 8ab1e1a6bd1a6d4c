"""`neuromem data list|fetch|path`: downloads checked by SHA-256, from a local server only.

Every download here comes from an HTTP server on 127.0.0.1 that serves small generated files
laid out as a mirror (``mnist/...``); the registry is replaced by one holding these files'
hashes, so no test needs the internet.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import struct
import threading
from functools import partial

import numpy as np
import pytest

from neuromem import experiments
from neuromem.cli import main
from neuromem.datasets import fetch as F

MNIST = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")  # fmt: skip


def _idx_images(n, rng):
    return gzip.compress(struct.pack(">IIII", 0x803, n, 28, 28)
                         + rng.integers(0, 256, (n, 28, 28), dtype=np.uint8).tobytes())  # fmt: skip


def _idx_labels(n, rng):
    return gzip.compress(struct.pack(">II", 0x801, n) + rng.integers(0, 10, n, np.uint8).tobytes())


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local server with a generated MNIST laid out as a mirror, the registry pointing at
    these files' hashes, and an empty cache. Yields (url, served folder, request log)."""
    rng = np.random.default_rng(0)
    root = tmp_path / "served"
    (root / "mnist").mkdir(parents=True)
    entries = {}
    for name in MNIST:
        n = 20
        blob = _idx_images(n, rng) if "images" in name else _idx_labels(n, rng)
        (root / "mnist" / name).write_bytes(blob)
        h = "sha256:" + hashlib.sha256(blob).hexdigest()
        entries[f"mnist/{name}"] = F.Entry(f"mnist/{name}", h, "http://unused.invalid/" + name)
    monkeypatch.setattr(F, "registry", lambda: dict(entries))
    monkeypatch.setenv("NEUROMEM_CACHE", str(tmp_path / "cache"))
    log = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            log.append(self.path)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=root))
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/", root, log
    srv.shutdown()
    srv.server_close()


def test_fetch_from_a_mirror_checks_and_caches(mirror, tmp_path, capsys):
    url, root, log = mirror
    assert main(["data", "fetch", "mnist", "--mirror", url, "--no-progress"]) == 0
    cache = tmp_path / "cache"
    for name in MNIST:
        assert (cache / "mnist" / name).read_bytes() == (root / "mnist" / name).read_bytes()
    assert f"--data {cache}" in capsys.readouterr().out
    n = len(log)
    assert n == 4
    # in the cache with the right hash: not downloaded again
    assert main(["data", "fetch", "mnist", "--mirror", url, "--no-progress"]) == 0
    assert len(log) == n
    # a broken file in the cache (an interrupted download, say) is downloaded again
    (cache / "mnist" / MNIST[0]).write_bytes(b"broken")
    assert main(["data", "fetch", "mnist", "--mirror", url, "--no-progress"]) == 0
    assert len(log) == n + 1
    assert (cache / "mnist" / MNIST[0]).read_bytes() == (root / "mnist" / MNIST[0]).read_bytes()
    assert main(["data", "path", "mnist"]) == 0
    assert capsys.readouterr().out.strip().endswith("mnist")


def test_a_file_with_the_wrong_hash_is_refused(mirror, tmp_path, capsys):
    url, root, log = mirror
    (root / "mnist" / MNIST[1]).write_bytes(b"not the recorded file")
    assert main(["data", "fetch", "mnist", "--mirror", url, "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "hash" in err[0].lower() and "Traceback" not in err[0]
    assert not (tmp_path / "cache" / "mnist" / MNIST[1]).exists()  # nothing half-written


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["data", "fetch", "cifar"], "unknown data set 'cifar'"),
        (["data", "fetch", "mnist", "--mirror", "ftp://x"], "--mirror"),
        (["data", "path", "nope"], "unknown data set"),
    ],
)
def test_bad_names_and_mirrors_exit_2(argv, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROMEM_CACHE", str(tmp_path / "cache"))
    assert main(argv) == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "cache").exists()


def test_unreachable_server_is_one_line(tmp_path, capsys, monkeypatch, mirror):
    url, _, _ = mirror
    dead = "http://127.0.0.1:9/"  # discard port: nothing listens
    assert main(["data", "fetch", "mnist", "--mirror", dead, "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("neuromem: error:")


def test_list_says_what_is_cached(mirror, capsys):
    url, _, _ = mirror
    main(["data", "list"])
    out = capsys.readouterr().out
    assert "mnist" in out and "missing" in out and "babi" in out
    main(["data", "fetch", "mnist", "--mirror", url, "--no-progress"])
    capsys.readouterr()
    main(["data", "list"])
    line = [ln for ln in capsys.readouterr().out.splitlines() if "mnist" in ln and "files" in ln]
    assert "cached" in line[0]


def test_experiments_find_the_cache_and_say_so(mirror, tmp_path, monkeypatch):
    """No --data, no NEUROMEM_DATA: an experiment that needs data uses the cache and records
    where its data came from."""
    url, _, _ = mirror
    monkeypatch.delenv("NEUROMEM_DATA", raising=False)
    F.fetch("mnist", mirror=url)
    seen = {}

    from dataclasses import dataclass

    from neuromem.experiments import _registry

    @dataclass
    class _C:
        pass

    def exp(cfg, ctx):
        seen["data"] = ctx.data
        return {}

    _registry.register("test-cache-data", config=_C, description="d", needs_data=True)(exp)
    try:
        r = experiments.run("test-cache-data")
    finally:
        _registry._REGISTRY.pop("test-cache-data")
    assert seen["data"] == tmp_path / "cache"
    assert r["data_source"].startswith("cache")
    r2 = None
    monkeypatch.setenv("NEUROMEM_CACHE", str(tmp_path / "empty"))
    _registry.register("test-cache-data", config=_C, description="d", needs_data=True)(exp)
    try:
        with pytest.raises(Exception, match="neuromem data fetch"):
            r2 = experiments.run("test-cache-data")
    finally:
        _registry._REGISTRY.pop("test-cache-data")
    assert r2 is None


def test_the_registry_covers_every_data_set_with_hashes():
    reg = F.registry()
    for name, folder in F.DATASETS.items():
        files = [e for p, e in reg.items() if p.startswith(folder + "/")]
        assert files, name
        for e in files:
            assert e.hash.startswith("sha256:") and len(e.hash) == 7 + 64, e.path
            if name != "babi":
                assert e.url and e.url.startswith("https://"), e.path
    assert len([p for p in reg if p.startswith("babi/")]) == 59


def test_babi_from_the_official_archive_checks_each_file(tmp_path, monkeypatch):
    """bAbI's source is one archive without a recorded hash: its en-valid-10k files are
    extracted and each checked against the registry; a changed file is refused."""
    import io
    import tarfile

    files = {"qa1_train.txt": b"1 Mary went.\n2 Where is Mary?\tgarden\t1\n",
             "qa1_test.txt": b"1 John went.\n2 Where is John?\tkitchen\t1\n"}  # fmt: skip
    served = tmp_path / "served"
    served.mkdir()

    def make_archive(content):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for n, b in content.items():
                info = tarfile.TarInfo(F.BABI_MEMBER_DIR + n)
                info.size = len(b)
                tar.addfile(info, io.BytesIO(b))
        (served / "babi.tar.gz").write_bytes(buf.getvalue())

    entries = {}
    for n, b in files.items():
        p = f"babi/en-valid-10k/{n}"
        entries[p] = F.Entry(p, "sha256:" + hashlib.sha256(b).hexdigest(), None)
    monkeypatch.setattr(F, "registry", lambda: dict(entries))
    srv = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(http.server.SimpleHTTPRequestHandler, directory=served)
    )
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(
            F, "BABI_ARCHIVE", f"http://127.0.0.1:{srv.server_address[1]}/babi.tar.gz"
        )
        make_archive({**files, "qa1_test.txt": b"changed"})
        with pytest.raises(ValueError, match="qa1_test.txt: SHA-256 differs"):
            F.fetch("babi", cache=tmp_path / "c1")
        assert not (tmp_path / "c1" / "babi").exists()
        make_archive(files)
        path = F.fetch("babi", cache=tmp_path / "c2")
        assert sorted(p.name for p in path.iterdir()) == sorted(files)
        assert (path / "qa1_train.txt").read_bytes() == files["qa1_train.txt"]
    finally:
        srv.shutdown()
        srv.server_close()


def test_find_dataset_names_where_it_looked_and_the_fetch_command(tmp_path, monkeypatch):
    """`find_dataset` (the benchmarks' lookup): the data set's folder under --data, then
    NEUROMEM_DATA; a missing one names the folder searched and `neuromem data fetch NAME`."""
    from neuromem.datasets import find_dataset
    from neuromem.errors import ConfigError, DataNotFoundError

    monkeypatch.setenv("NEUROMEM_CACHE", str(tmp_path / "cache"))
    (tmp_path / "d" / "kg" / "umls").mkdir(parents=True)
    assert find_dataset("umls", tmp_path / "d") == tmp_path / "d" / "kg" / "umls"
    monkeypatch.setenv("NEUROMEM_DATA", str(tmp_path / "d"))
    assert find_dataset("umls") == tmp_path / "d" / "kg" / "umls"
    with pytest.raises(DataNotFoundError, match=r"no kg/nations in .*NEUROMEM_DATA.*fetch nations"):
        find_dataset("nations")
    with pytest.raises(DataNotFoundError, match="--data folder: not found"):
        find_dataset("umls", tmp_path / "absent")
    with pytest.raises(ConfigError, match="unknown data set 'fb15k'"):
        find_dataset("fb15k")
