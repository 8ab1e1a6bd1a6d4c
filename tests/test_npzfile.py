"""neuromem.npzfile: one place where saved files are found, written whole and read with
errors that name the file (issue 17)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from neuromem import npzfile


def test_save_and_load_agree_on_the_suffix(tmp_path):
    for name in ("x", "x.bin", "x.npz"):
        p = npzfile.write(tmp_path / name, "thing", {"a": 1}, {"v": np.arange(3)}, version=2)
        assert p.suffix == ".npz" and p.is_file()
        meta, arrays = npzfile.read(tmp_path / name, "thing", "a thing file", version=2)
        assert meta == {"a": 1} and arrays["v"].tolist() == [0, 1, 2]
        assert npzfile.find(tmp_path / name) == p
    assert oct(os.stat(p).st_mode & 0o777) == "0o644"
    assert not [q for q in tmp_path.iterdir() if q.name.startswith(".tmp-")]


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        npzfile.find(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        npzfile.write_arrays(tmp_path / "no" / "x", {"v": np.zeros(2)})


@pytest.mark.parametrize("damage", ["empty", "half", "text", "zip_of_pickles"])
def test_unreadable_files_are_value_errors_naming_the_file(tmp_path, damage):
    p = npzfile.write(tmp_path / "f", "thing", {}, {"v": np.arange(100)})
    data = p.read_bytes()
    if damage == "empty":
        p.write_bytes(b"")
    elif damage == "half":
        p.write_bytes(data[: len(data) // 2])
    elif damage == "text":
        p.write_text("not an archive\n")
    else:
        np.savez(p, v=np.array([{"a": 1}], dtype=object))  # needs pickle: refused
    with pytest.raises(ValueError, match=r"f\.npz is not a thing file"):
        npzfile.read(p, "thing", "a thing file")
    with pytest.raises(ValueError, match=r"f\.npz"):
        npzfile.read_kind(p)


def test_header_kind_and_version_are_checked(tmp_path):
    p = npzfile.write_arrays(tmp_path / "plain", {"v": np.zeros(2)})
    with pytest.raises(ValueError, match="no header"):
        npzfile.read(p, "thing", "a thing file")
    np.savez(p, __header__=np.array("{not json"), v=np.zeros(2))
    with pytest.raises(ValueError, match="corrupt header"):
        npzfile.read(p, "thing", "a thing file")
    npzfile.write(p, "other", {}, {}, version=1)
    with pytest.raises(ValueError, match="holds 'other'"):
        npzfile.read(p, "thing", "a thing file")
    npzfile.write(p, "thing", {}, {}, version=3)
    with pytest.raises(ValueError, match="format version 3"):
        npzfile.read(p, "thing", "a thing file", version=1)


def test_a_failed_write_leaves_the_previous_file(tmp_path):
    p = npzfile.write_arrays(tmp_path / "keep", {"v": np.arange(3)})

    class Boom:
        def __array__(self, *a, **k):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        npzfile.write_arrays(tmp_path / "keep", {"v": Boom()})
    assert np.load(p)["v"].tolist() == [0, 1, 2]
    assert sorted(q.name for q in tmp_path.iterdir()) == ["keep.npz"]
