"""One seed convention: an int >= 0 or a numpy Generator, accepted by every model."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.rng import as_generator, as_seed_int, check_seed


def test_helpers():
    g = np.random.default_rng(5)
    assert as_generator(g) is g
    assert as_generator(3).integers(1000) == np.random.default_rng(3).integers(1000)
    assert as_seed_int(7) == 7 and 0 <= as_seed_int(np.random.default_rng(0)) < 2**31
    for bad, err in ((-1, ValueError), (True, TypeError), (1.5, TypeError), ("0", TypeError)):
        with pytest.raises(err, match="seed"):
            check_seed(bad)


def _same(make):
    """make(seed) with an int and with a Generator seeded by that int agree."""
    return make(11), make(np.random.default_rng(11))


def test_every_model_takes_an_int_or_a_generator():
    from neuromem.pmi import PMIConfig, init_long_term_memory, init_weights
    from neuromem.sdr import SDR
    from neuromem.sparsey import LevelConfig, Sparsey, SparseyConfig
    from neuromem.tensorbrain import TensorModel
    from neuromem.tensorbrain.decoder import TensorBrain
    from neuromem.tensorbrain.scenes import make_world

    a, b = _same(lambda s: SDR.random(64, 8, s))
    assert a == b
    a, b = _same(lambda s: init_weights(PMIConfig(dim=8, n_heads=1, key_dim=8), 8, s))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    a, b = _same(lambda s: init_long_term_memory(2, 3, 4, s))
    assert np.array_equal(a, b)
    a, b = _same(lambda s: make_world(seed=s).facts)
    assert np.array_equal(a, b)
    a, b = _same(lambda s: TensorModel("distmult", 5, 2, dim=4, seed=s).params["E"])
    assert np.array_equal(a, b)
    a, b = _same(lambda s: TensorBrain(5, 2, dim=4, seed=s).params["A_entity"])
    assert np.array_equal(a, b)
    cfg = SparseyConfig(input_shape=(32,), levels=[LevelConfig(Q=4, K=4)])
    x = np.zeros(32, bool)
    x[:6] = True
    a, b = _same(lambda s: Sparsey(cfg, seed=s).learn(x).winners[0])
    assert np.array_equal(a, b)
    with pytest.raises(TypeError, match="seed"):
        Sparsey(cfg, seed="x")
    with pytest.raises(TypeError, match="rng"):
        SDR.random(64, 8, "x")
