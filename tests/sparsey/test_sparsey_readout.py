"""Readouts, preprocessing, the MNIST IDX reader and the balanced split."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from neuromem.datasets.mnist import balanced_split, load_mnist, read_idx
from neuromem.errors import DataNotFoundError
from neuromem.sparsey import ClassAssociation, ClassUnits, CodeKNN
from neuromem.sparsey.preprocess import binarize, deskew, edge_features


# ----------------------------------------------------------------- readouts
def brute_agreement(train, test, skip=None):
    S = np.zeros((len(test), len(train)), dtype=np.int64)
    for i, a in enumerate(test):
        for j, b in enumerate(train):
            eq = a == b
            if skip is not None:
                eq &= a != skip
            S[i, j] = eq.sum()
    return S


def test_knn_similarity_matches_brute_force():
    rng = np.random.default_rng(0)
    train = rng.integers(-1, 4, size=(30, 12))
    test = rng.integers(-1, 4, size=(7, 12))
    knn = CodeKNN().fit(train, np.arange(30) % 3)
    np.testing.assert_array_equal(knn.similarity(test), brute_agreement(train, test, skip=-1))
    knn_g = CodeKNN(match_gated=True).fit(train, np.arange(30) % 3)
    np.testing.assert_array_equal(knn_g.similarity(test), brute_agreement(train, test))
    cos = CodeKNN(normalize=True).fit(train, np.arange(30) % 3).similarity(test)
    n_tr = (train >= 0).sum(1)
    n_te = (test >= 0).sum(1)
    expect = brute_agreement(train, test, skip=-1) / np.sqrt(np.outer(n_te, n_tr))
    np.testing.assert_allclose(cos, expect)


def test_knn_and_class_association_classify_prototype_noise():
    rng = np.random.default_rng(1)
    protos = rng.integers(0, 8, size=(4, 40))

    def sample(n):
        y = rng.integers(0, 4, n)
        X = protos[y].copy()
        flip = rng.random(X.shape) < 0.4
        X[flip] = rng.integers(0, 8, flip.sum())
        return X, y

    Xtr, ytr = sample(200)
    Xte, yte = sample(200)
    assert CodeKNN(1).fit(Xtr, ytr).score(Xte, yte) > 0.95
    assert CodeKNN(5, normalize=True, power=4).fit(Xtr, ytr).score(Xte, yte) > 0.95
    assert ClassAssociation().fit(Xtr, ytr).score(Xte, yte) > 0.95
    # shuffled labels: chance level (4 classes), well below the above
    assert CodeKNN(1).fit(Xtr, rng.permutation(ytr)).score(Xte, yte) < 0.45


def test_readout_errors():
    with pytest.raises(ValueError, match="k must be"):
        CodeKNN(0)
    with pytest.raises(RuntimeError, match="fit"):
        CodeKNN().predict(np.zeros((1, 3), int))
    with pytest.raises(TypeError, match="integer"):
        CodeKNN().fit(np.zeros((2, 3)), [0, 1])
    with pytest.raises(ValueError, match="labels"):
        CodeKNN().fit(np.zeros((2, 3), int), [0, 1, 2])
    knn = CodeKNN().fit(np.zeros((2, 3), int), [0, 1])
    with pytest.raises(ValueError, match="shape"):
        knn.predict(np.zeros((2, 4), int))
    with pytest.raises(ValueError, match="winners must be < K"):
        knn.predict(np.full((1, 3), 5))


def test_class_units_fixed_time_readout():
    rng = np.random.default_rng(2)
    protos = rng.integers(0, 8, size=(4, 40))

    def sample(n):
        y = rng.integers(0, 4, n)
        X = protos[y].copy()
        flip = rng.random(X.shape) < 0.5
        X[flip] = rng.integers(-1, 8, flip.sum())
        return X, y

    Xtr, ytr = sample(300)
    Xte, yte = sample(200)
    units = ClassUnits(passes=2).fit(Xtr, ytr)
    assert units.score(Xte, yte) > 0.95
    assert units.scores(Xte).shape == (200, 4)
    # shuffled labels: near chance
    assert ClassUnits().fit(Xtr, rng.permutation(ytr)).score(Xte, yte) < 0.45
    # its size does not grow with the number of training codes (fixed-time prediction)
    big = ClassUnits().fit(np.concatenate([Xtr] * 3), np.concatenate([ytr] * 3))
    assert big._W.shape == units._W.shape
    # deterministic: same codes in the same order, same weights
    np.testing.assert_array_equal(ClassUnits(2).fit(Xtr, ytr)._W, units._W)


def test_class_units_errors():
    with pytest.raises(ValueError, match="passes"):
        ClassUnits(passes=0)
    with pytest.raises(RuntimeError, match="fit"):
        ClassUnits().predict(np.zeros((2, 3), dtype=int))
    units = ClassUnits().fit(np.zeros((4, 3), dtype=int), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="codes must have shape"):
        units.predict(np.zeros((2, 5), dtype=int))
    with pytest.raises(ValueError, match="labels"):
        ClassUnits().fit(np.zeros((4, 3), dtype=int), [0, 1, 0])


# ----------------------------------------------------------------- preprocessing
def test_binarize_thresholds_blur_and_pool():
    img = np.zeros((1, 8, 8), np.uint8)
    img[0, 2, 2] = 255
    img[0, 5, 5] = 100
    b = binarize(img, threshold=0.3)
    assert b.shape == (1, 8, 8) and b[0, 2, 2] and b[0, 5, 5] and b.sum() == 2
    assert binarize(img, threshold=0.5).sum() == 1
    both = binarize(img, threshold=[0.3, 0.5])
    assert both.shape == (1, 8, 8, 2) and both[..., 0].sum() == 2 and both[..., 1].sum() == 1
    assert binarize(img, threshold=0.3, pool=2).shape == (1, 4, 4)
    assert binarize(img, threshold=0.1, blur=1.0).sum() > 2
    with pytest.raises(ValueError, match="NaN"):
        binarize(np.full((1, 4, 4), np.nan))
    with pytest.raises(ValueError, match="non-negative"):
        binarize(-np.ones((1, 4, 4)))
    with pytest.raises(ValueError, match="threshold"):
        binarize(img, threshold=1.5)


def test_deskew_straightens_a_slanted_bar():
    img = np.zeros((28, 28))
    for r in range(6, 22):
        c = 8 + (r - 6) // 2  # a bar slanted by 1/2 column per row
        img[r, c : c + 2] = 1.0

    def slant(x):
        rr, cc = np.mgrid[:28, :28]
        t = x.sum()
        mr, mc = (rr * x).sum() / t, (cc * x).sum() / t
        return ((rr - mr) * (cc - mc) * x).sum() / ((rr - mr) ** 2 * x).sum()

    assert slant(img) == pytest.approx(0.5, abs=0.05)
    out = deskew(img)[0]
    assert abs(slant(out)) < 0.05
    # the centre of mass moves to the image centre
    rr, cc = np.mgrid[:28, :28]
    assert (cc * out).sum() / out.sum() == pytest.approx(13.5, abs=0.3)


def test_edge_features_orientation_channels():
    img = np.zeros((1, 16, 16))
    img[0, :, 8:] = 1.0  # a vertical edge: horizontal gradient
    f = edge_features(img, n_orient=4, blur=0.5, pool=1)
    assert f.shape == (1, 16, 16, 4)
    counts = f.sum(axis=(0, 1, 2))
    assert counts[0] > 0 and counts[0] > 5 * max(counts[2], 1) - 1
    with pytest.raises(ValueError, match="n_orient"):
        edge_features(img, n_orient=0)


# ----------------------------------------------------------------- MNIST reader
def write_idx(path, arr, code=0x08):
    header = bytes([0, 0, code, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    data = header + arr.astype(">u1" if code == 0x08 else arr.dtype).tobytes()
    if str(path).endswith(".gz"):
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)


def test_read_idx_roundtrip_and_errors(tmp_path):
    rng = np.random.default_rng(2)
    imgs = rng.integers(0, 256, (30, 28, 28), dtype=np.uint8)
    labels = np.tile(np.arange(10, dtype=np.uint8), 3)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", imgs)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels)  # plain file also accepted
    X, y = load_mnist(tmp_path)
    np.testing.assert_array_equal(X, imgs)
    np.testing.assert_array_equal(y, labels)
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"\x01\x02\x08\x01" + (5).to_bytes(4, "big") + b"abcde")
    with pytest.raises(ValueError, match="magic"):
        read_idx(bad)
    short = tmp_path / "short.idx"
    short.write_bytes(b"\x00\x00\x08\x01" + (9).to_bytes(4, "big") + b"abc")
    with pytest.raises(ValueError, match="header says"):
        read_idx(short)
    with pytest.raises(DataNotFoundError):
        load_mnist(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, split="valid")


def test_balanced_split_disjoint_and_balanced():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 10, 2000)
    a, b = balanced_split(labels, (20, 50), rng)
    assert np.intersect1d(a, b).size == 0
    assert (np.bincount(labels[a], minlength=10) == 20).all()
    assert (np.bincount(labels[b], minlength=10) == 50).all()
    with pytest.raises(ValueError, match="per_class"):
        balanced_split(labels, (300, 300), rng)


@pytest.mark.data
def test_real_mnist_files(shared_data):
    X, y = load_mnist(shared_data / "mnist")
    assert X.shape == (10000, 28, 28) and X.dtype == np.uint8
    assert np.bincount(y).tolist()[:3] == [980, 1135, 1032]
