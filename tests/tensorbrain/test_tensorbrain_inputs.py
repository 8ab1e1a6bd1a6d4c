"""Bad input to the tensor brain's public API: refused before work, naming the argument
(issue 17); files validated on load; save and load agree on the ``.npz`` suffix."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.errors import DataNotFoundError
from neuromem.tensorbrain import TensorModel
from neuromem.tensorbrain.decoder import TRIPLE_PLAN, Task, TensorBrain
from neuromem.tensorbrain.evaluation import FilterIndex, rank_metrics

TRIPLES = np.array([[0, 0, 1], [1, 1, 2], [2, 0, 0], [3, 1, 1]])
INF, NAN = float("inf"), float("nan")


def _brain():
    return TensorBrain(4, 2, dim=4, seed=0)


def _task():
    return Task("pre", TRIPLE_PLAN, [TRIPLES[:, 0], TRIPLES[:, 2], TRIPLES[:, 1]])


@pytest.mark.parametrize(
    "kw, exc, msg",
    [
        ({"lr": INF}, ValueError, r"lr: expected a finite number > 0, got inf"),
        ({"lr": 0.0}, ValueError, r"lr: expected a finite number > 0"),
        ({"lr": "0.1"}, TypeError, r"lr: expected a finite number"),
        ({"time_budget": -1}, ValueError, r"time_budget: expected a finite number > 0"),
        ({"time_budget": NAN}, ValueError, r"time_budget: .* got nan"),
        ({"reg": NAN}, ValueError, r"reg: expected a finite number >= 0, got nan"),
        ({"smoothing": 1.0}, ValueError, r"smoothing: expected a finite number in \[0, 1\)"),
        ({"epochs": 2.5}, TypeError, r"epochs: expected an integer >= 1"),
        ({"batch_size": 0}, ValueError, r"batch_size: expected an integer >= 1"),
        ({"callback": 3}, TypeError, r"callback"),
    ],
)
def test_tensor_model_fit_refuses_bad_hyper_parameters(kw, exc, msg):
    m = TensorModel("distmult", 4, 2, dim=4, seed=0)
    before = {k: v.copy() for k, v in m.params.items()}
    with pytest.raises(exc, match=msg):
        m.fit(TRIPLES, **{"epochs": 2, **kw})
    assert all(np.array_equal(before[k], m.params[k]) for k in before)  # nothing trained
    assert m.history == []


@pytest.mark.parametrize(
    "kw, exc, msg",
    [
        ({"lr": INF}, ValueError, r"lr: expected a finite number > 0, got inf"),
        ({"weight_decay": NAN}, ValueError, r"weight_decay: expected a finite number >= 0"),
        ({"weight_decay": -1e-3}, ValueError, r"weight_decay: .* got -0.001"),
        ({"time_budget": 0}, ValueError, r"time_budget: expected a finite number > 0"),
        ({"epochs": 1.0}, TypeError, r"epochs: expected an integer"),
    ],
)
def test_decoder_fit_refuses_bad_hyper_parameters(kw, exc, msg):
    tb = _brain()
    with pytest.raises(exc, match=msg):
        tb.fit([_task()], **{"epochs": 2, **kw})
    assert tb.history == []


def test_lr_inf_no_longer_gives_nan_weights():
    tb = _brain()
    with pytest.raises(ValueError, match="lr"):
        tb.fit([_task()], epochs=1, lr=INF)
    assert all(np.all(np.isfinite(v)) for v in tb.params.values())


def test_decode_pre_needs_an_integer_batch_size():
    tb = _brain()
    with pytest.raises(TypeError, match=r"inputs .*integer >= 1, got 2.7"):
        tb.decode("pre", 2.7, TRIPLE_PLAN)
    with pytest.raises(ValueError, match=r"inputs .*got 0"):
        tb.decode("pre", 0, TRIPLE_PLAN)
    probs, _ = tb.decode("pre", 3, TRIPLE_PLAN)
    assert probs[0].shape == (3, 4)
    with pytest.raises(TypeError, match="n: expected an integer"):
        tb.generate(2.5)


def test_decoder_constructor_refuses_non_finite_gains():
    for name in ("alpha", "beta", "beta_fb"):
        with pytest.raises(ValueError, match=f"{name}: expected a finite number >= 0"):
            TensorBrain(4, 2, dim=4, **{name: INF})


def test_rank_metrics_refuses_ranks_below_one():
    with pytest.raises(ValueError, match=r"ranks: expected finite ranks >= 1 .*got 0"):
        rank_metrics([0, 1])
    with pytest.raises(ValueError, match="ranks"):
        rank_metrics([1, NAN])
    with pytest.raises(TypeError, match="ranks"):
        rank_metrics(["a"])
    with pytest.raises(TypeError, match="ks"):
        rank_metrics([1, 2], ks=(1.5,))
    assert rank_metrics([1, 2.5]) == {"mrr": 0.7, "hits1": 0.5, "hits3": 1.0, "hits10": 1.0}


def test_filter_index_refuses_out_of_range_ids():
    with pytest.raises(ValueError, match=r"triples: object ids must lie in \[0, 4\)"):
        FilterIndex([[0, 0, 9]], 4, 2)
    with pytest.raises(ValueError, match=r"relation ids"):
        FilterIndex([[0, -1, 1]], 4, 2)


def test_sizes_beyond_memory_are_refused_before_allocation(monkeypatch):
    monkeypatch.setenv("NEUROMEM_MEMORY_LIMIT", "1G")
    with pytest.raises(ValueError, match=r"n_entities=1000, n_relations=1000, dim=1000 .*needs"):
        TensorModel("rescal", 1000, 1000, dim=1000)
    with pytest.raises(ValueError, match=r"dim=100000 \(decoder parameters\): needs about"):
        TensorBrain(4, 2, dim=100_000)
    with pytest.raises(ValueError, match=r"inputs=100000000 \(batch size\): needs about"):
        _brain().decode("pre", 10**8, TRIPLE_PLAN)


@pytest.mark.parametrize("cls", ["model", "brain"])
def test_save_and_load_agree_on_the_suffix(tmp_path, cls):
    obj = TensorModel("complex", 4, 2, dim=4, seed=0) if cls == "model" else _brain()
    written = obj.save(tmp_path / "x")
    assert written == tmp_path / "x.npz" and written.is_file()
    back = type(obj).load(tmp_path / "x")  # the name it was saved under
    assert all(np.array_equal(obj.params[k], back.params[k]) for k in obj.params)
    assert type(obj).load(written).dim == obj.dim
    with pytest.raises(DataNotFoundError, match="no such file"):
        type(obj).load(tmp_path / "y")
    assert [p.name for p in tmp_path.iterdir()] == ["x.npz"]  # no temporary left


@pytest.mark.parametrize("cls", [TensorModel, TensorBrain])
@pytest.mark.parametrize("damage", ["empty", "truncated", "text"])
def test_unreadable_files_raise_value_error_naming_the_file(tmp_path, cls, damage):
    obj = TensorModel("distmult", 4, 2, dim=4) if cls is TensorModel else _brain()
    p = obj.save(tmp_path / "m.npz")
    data = p.read_bytes()
    p.write_bytes({"empty": b"", "truncated": data[: len(data) // 2], "text": b"hello\n"}[damage])
    with pytest.raises(ValueError, match=r"m\.npz"):
        cls.load(p)


def _rewrite(p, **changes):
    with np.load(p) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)
    for k, v in list(arrays.items()):
        if v is None:
            del arrays[k]
    np.savez(p, **arrays)


def test_corrupt_tensor_model_contents_are_refused(tmp_path):
    m = TensorModel("distmult", 4, 2, dim=4)
    p = m.save(tmp_path / "m.npz")
    E = m.params["E"].copy()
    E[1, 2] = np.nan
    _rewrite(p, E=E)
    with pytest.raises(ValueError, match=r"parameter E holds NaN or infinite values in .*m\.npz"):
        TensorModel.load(p)
    _rewrite(p, E=np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"parameter E has shape \(3, 4\)"):
        TensorModel.load(p)
    _rewrite(p, E=None)
    with pytest.raises(ValueError, match="parameter E is missing"):
        TensorModel.load(p)
    _rewrite(p, _meta=np.array([99, 4, 2, 4, 4]))
    with pytest.raises(ValueError, match="format version 99"):
        TensorModel.load(p)
    _rewrite(p, _meta=np.array([1.5, 4, 2, 4, 4]))
    with pytest.raises(ValueError, match="_meta must hold 7 integers"):
        TensorModel.load(p)
    _rewrite(p, _meta=np.array([1, -4, 2, 4, 4]))
    with pytest.raises(ValueError, match="bad model header: n_entities"):
        TensorModel.load(p)
    _rewrite(p, _meta=np.array([2, 4, 2, 4, 4, 3]))
    with pytest.raises(ValueError, match="reciprocal must be 0 or 1"):
        TensorModel.load(p)
    # reciprocal: R must have 2P rows
    _rewrite(p, _meta=np.array([2, 4, 2, 4, 4, 1]), E=m.params["E"])
    with pytest.raises(ValueError, match=r"parameter R has shape \(2, 4\)"):
        TensorModel.load(p)


def test_corrupt_decoder_contents_are_refused(tmp_path):
    tb = TensorBrain(4, 2, n_sensory=3, dim=4, seed=0)
    tb.store_episode(np.ones((2, 3)))
    p = tb.save(tmp_path / "d")
    assert TensorBrain.load(p).n_time == 2
    _rewrite(p, b_time=np.zeros(3))  # a time-index bias of the wrong length
    with pytest.raises(ValueError, match=r"b_time \(T,\), got \(2, 4\) and \(3,\)"):
        TensorBrain.load(p)
    _rewrite(p, b_time=np.zeros(2), A_time=np.full((2, 4), np.inf))
    with pytest.raises(ValueError, match="A_time holds NaN or infinite values"):
        TensorBrain.load(p)
    _rewrite(p, A_time=np.zeros((2, 4)), _hyper=np.array([0.5, np.nan, 1.0]))
    with pytest.raises(ValueError, match="bad decoder header: beta"):
        TensorBrain.load(p)
    _rewrite(p, _hyper=np.array([0.5, 1.0, 1.0]), U=np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match="parameter U holds NaN"):
        TensorBrain.load(p)


# ---------------------------------------------------------------- determinism (issue 17)
def test_training_ignores_the_wall_clock_unless_a_budget_is_asked_for(monkeypatch):
    """A slow (busy) machine gives the same result: time is only read for a budget."""
    import itertools
    import time as _time

    clock = itertools.count(0.0, 1000.0)  # every reading 1000 s later: a very busy machine
    monkeypatch.setattr(_time, "perf_counter", lambda: next(clock))
    runs = []
    for _ in range(2):
        m = TensorModel("distmult", 4, 2, dim=4, seed=0)
        runs.append(m.fit(TRIPLES, epochs=5, seed=1))
        tb = _brain()
        runs.append(tb.fit([_task()], epochs=4, seed=1))
    assert [len(r) for r in runs] == [5, 4, 5, 4]
    assert runs[0] == runs[2] and runs[1] == runs[3]
    # opted in, the budget stops after the epoch that crosses it
    m = TensorModel("distmult", 4, 2, dim=4, seed=0)
    assert len(m.fit(TRIPLES, epochs=5, seed=1, time_budget=10.0)) == 1


def test_configs_and_presets_stop_on_epochs():
    from neuromem.config import resolve_config
    from neuromem.experiments.tensorbrain import TensorBrainKGConfig, TensorBrainScenesConfig
    from neuromem.presets import load
    from neuromem.tensorbrain.config import DecoderFitConfig, KGFitConfig

    assert KGFitConfig().time_budget is None and DecoderFitConfig().time_budget is None
    cfg = TensorBrainKGConfig()
    assert cfg.kg_fit.time_budget is None and cfg.decoder_fit.time_budget is None
    assert getattr(TensorBrainScenesConfig().fit, "time_budget", None) is None
    for ds in ("kinships", "nations", "umls"):
        c = resolve_config(TensorBrainKGConfig, load(f"tensorbrain-{ds}").config)
        assert c.kg_fit.time_budget is None and c.decoder_fit.time_budget is None
        assert c.kg_fit.epochs >= 40 and c.decoder_fit.epochs >= 60


def test_memory_estimate_of_a_kg_config_uses_the_field_names(monkeypatch):
    from neuromem.experiments.tensorbrain import TensorBrainKGConfig

    monkeypatch.setenv("NEUROMEM_MEMORY_LIMIT", "8G")
    TensorBrainKGConfig(dataset="umls").validate()
    with pytest.raises(ValueError, match=r"tucker_dim=5000, tucker_rel_dim=32 \(tucker on umls\)"):
        TensorBrainKGConfig(dataset="umls", tucker_dim=5000).validate()
