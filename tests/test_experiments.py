"""Tests of the experiment registry, config resolution and the sdr-overlap experiment."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

import numpy as np
import pytest
from scipy import stats

from neuromem import experiments
from neuromem.config import coerce_value, load_preset, resolve_config
from neuromem.errors import ConfigError, DataNotFoundError
from neuromem.experiments import _registry


@dataclass
class _Cfg:
    n: int = 3
    rate: float = 0.5
    name: str = "a"
    flag: bool = False
    sizes: list[int] = field(default_factory=lambda: [1, 2])
    maybe: float | None = None

    def validate(self):
        if self.n < 0:
            raise ValueError(f"n must be >= 0, got {self.n}")


def test_coerce_value_parses_cli_strings():
    assert coerce_value("7", int, "n") == 7
    assert coerce_value("2.5", float, "x") == 2.5
    assert coerce_value("true", bool, "b") is True
    assert coerce_value("off", bool, "b") is False
    assert coerce_value("1,2,3", list[int], "s") == [1, 2, 3]
    assert coerce_value("[4, 5]", list[int], "s") == [4, 5]
    assert coerce_value("none", float | None, "m") is None
    assert coerce_value("0.1", float | None, "m") == 0.1
    assert coerce_value(3, float, "x") == 3.0


@pytest.mark.parametrize(
    ("value", "tp", "match"),
    [
        ("abc", int, "n: expected int, got 'abc'"),
        ("1.5", int, "expected int"),
        (True, int, "expected int"),
        ("maybe", bool, "expected bool"),
        ("nan", float, "NaN"),
        ("x,2", list[int], r"n\[0\]: expected int"),
        (3, str, "expected str"),
    ],
)
def test_coerce_value_rejects_wrong_types(value, tp, match):
    with pytest.raises(ConfigError, match=match):
        coerce_value(value, tp, "n")


def test_resolve_config_layers_and_errors():
    cfg = resolve_config(_Cfg, {"n": 5, "rate": "0.25"}, {"n": "9"}, experiment="t")
    assert (cfg.n, cfg.rate, cfg.sizes) == (9, 0.25, [1, 2])
    with pytest.raises(ConfigError, match="unknown config key 'nope' for t; accepted keys: flag"):
        resolve_config(_Cfg, {"nope": 1}, experiment="t")
    with pytest.raises(ConfigError, match="n must be >= 0"):
        resolve_config(_Cfg, {"n": -1}, experiment="t")


def test_load_preset(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text('experiment = "sdr-overlap"\ndescription = "x"\n[config]\nsize = 64\n')
    assert load_preset(p) == ("sdr-overlap", {"size": 64})
    bad = tmp_path / "bad.toml"
    bad.write_text("size = = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_preset(bad)
    with pytest.raises(ConfigError, match="preset file not found"):
        load_preset(tmp_path / "missing.toml")
    mixed = tmp_path / "mixed.toml"
    mixed.write_text("stray = 1\n[config]\nsize = 3\n")
    with pytest.raises(ConfigError, match="keys outside"):
        load_preset(mixed)


def test_registry_lists_and_rejects_unknown():
    assert "sdr-overlap" in experiments.names()
    exp = experiments.get("sdr-overlap")
    assert exp.config.__name__ == "SDROverlapConfig"
    with pytest.raises(ConfigError, match="unknown experiment 'nope'; registered: .*sdr-overlap"):
        experiments.get("nope")


def test_register_rejects_duplicates_and_non_dataclass():
    with pytest.raises(TypeError, match="must be a dataclass"):
        experiments.register("x", config=dict, description="d")

    def f(cfg, ctx):
        return {}

    experiments.register("test-dup", config=_Cfg, description="d")(f)
    try:
        with pytest.raises(ValueError, match="already registered"):
            experiments.register("test-dup", config=_Cfg, description="d")(lambda c, x: {})
    finally:
        _registry._REGISTRY.pop("test-dup")


def test_run_returns_result_dict_and_writes_json(tmp_path):
    res = experiments.run("sdr-overlap", out=tmp_path, seed=3, n_pairs=500, size=128, n_active=8)
    on_disk = json.loads((tmp_path / "result.json").read_text())
    assert on_disk == json.loads(json.dumps(res))
    assert res["experiment"] == "sdr-overlap"
    assert res["seed"] == 3 and res["backend"] == "numba"
    assert res["config"] == {"size": 128, "n_active": 8, "Q": 16, "K": 8, "n_pairs": 500}
    for key in ("numpy", "numba", "brian2", "neuromem", "python"):
        assert key in res["versions"]
    assert set(res["timings"]) >= {"draw", "measure", "total"}
    assert all(v >= 0 for v in res["timings"].values())
    assert res["figures"] == ["overlap_pmf.png"]
    assert (tmp_path / "overlap_pmf.png").stat().st_size > 1000
    assert not list(tmp_path.glob(".result-*"))  # no temporary file left behind


def test_same_seed_same_result_other_seed_differs():
    a = experiments.run("sdr-overlap", seed=5, n_pairs=300)
    b = experiments.run("sdr-overlap", seed=5, n_pairs=300)
    c = experiments.run("sdr-overlap", seed=6, n_pairs=300)
    assert a["metrics"] == b["metrics"]
    assert a["metrics"] != c["metrics"]


def test_run_errors_before_work(tmp_path):
    out = tmp_path / "never"
    with pytest.raises(ConfigError, match="unknown config key"):
        experiments.run("sdr-overlap", out=out, nope=1)
    with pytest.raises(ConfigError, match="n_active must lie"):
        experiments.run("sdr-overlap", out=out, n_active=0)
    with pytest.raises(ConfigError, match="--backend: sdr-overlap does not run on 'brian2'"):
        experiments.run("sdr-overlap", out=out, backend="brian2")
    with pytest.raises(DataNotFoundError, match="--data folder: not found"):
        experiments.run("sdr-overlap", out=out, data=tmp_path / "missing")
    with pytest.raises(ConfigError, match="--seed"):
        experiments.run("sdr-overlap", out=out, seed=-1)
    with pytest.raises(ConfigError, match="preset file not found"):
        experiments.run("sdr-overlap", out=out, config_file=tmp_path / "x.toml")
    assert not out.exists()  # nothing half-written


def test_preset_from_models_folder_and_override_order(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text('experiment = "sdr-overlap"\n[config]\nsize = 256\nn_pairs = 100\n')
    res = experiments.run("sdr-overlap", config_file=p, n_pairs=200)
    assert res["config"]["size"] == 256 and res["config"]["n_pairs"] == 200
    wrong = tmp_path / "w.toml"
    wrong.write_text('experiment = "other"\n[config]\n')
    with pytest.raises(ConfigError, match="preset is for experiment 'other'"):
        experiments.run("sdr-overlap", config_file=wrong)
    # the shipped preset loads by name
    res = experiments.run("sdr-overlap", config_file="sdr-overlap", n_pairs=100)
    assert res["config"]["size"] == 2048 and res["config"]["K"] == 16


def test_every_shipped_preset_resolves():
    from neuromem import presets

    assert len(presets.names()) >= 17
    for pname in presets.names():
        name, values = load_preset(pname)
        assert name in experiments.names(), f"{pname} names unknown experiment {name!r}"
        resolve_config(experiments.get(name).config, values, experiment=name)


# ----------------------------------------------------------------------- nested configs
@dataclasses.dataclass
class _Inner:
    """Inner.

    Attributes
    ----------
    a : int
        The a value. More text.
    pair : tuple of int
        A pair.
    """

    a: int = 1
    pair: tuple[int, int] = (2, 2)


@dataclasses.dataclass
class _Outer:
    """Outer.

    Attributes
    ----------
    inner, other : _Inner
        Two inner configs.
    items : list of _Inner
        A list of them.
    b : float
        The b value.
    """

    inner: _Inner = dataclasses.field(default_factory=_Inner)
    other: _Inner = dataclasses.field(default_factory=lambda: _Inner(a=5))
    items: list[_Inner] = dataclasses.field(default_factory=lambda: [_Inner()])
    b: float = 0.5


def test_nested_config_paths_flat_names_and_tables():
    cfg = resolve_config(_Outer, {"inner.a": "7", "b": 2, "items.0.pair": 4}, experiment="t")
    assert cfg.inner.a == 7 and cfg.other.a == 5 and cfg.b == 2.0
    assert cfg.items[0].pair == (4, 4)  # one number for a pair: (n, n)
    # a nested table (TOML) and a list of tables replace the list
    cfg = resolve_config(_Outer, {"other": {"a": 3}, "items": [{"a": 8}, {"pair": [1, 2]}]})
    assert cfg.other.a == 3 and [i.a for i in cfg.items] == [8, 1]
    assert cfg.items[1].pair == (1, 2)
    # defaults are fresh per resolution
    assert resolve_config(_Outer).items[0].a == 1
    # a flat name that several fields end with is refused, naming them
    with pytest.raises(ConfigError, match="ambiguous config key 'a' for t: use one of inner.a"):
        resolve_config(_Outer, {"a": 1}, experiment="t")
    with pytest.raises(ConfigError, match="unknown config key 'inner.zz'"):
        resolve_config(_Outer, {"inner.zz": 1})
    with pytest.raises(ConfigError, match="items.0.pair: expected 2 values"):
        resolve_config(_Outer, {"items.0.pair": "1,2,3"})
    with pytest.raises(ConfigError, match="b: expected a finite number"):
        resolve_config(_Outer, {"b": "inf"})


def test_config_to_dict_nests_and_field_docs_reads_numpy_docstrings():
    from neuromem.config import config_to_dict, field_docs, leaves

    d = config_to_dict(resolve_config(_Outer))
    assert d["inner"] == {"a": 1, "pair": [2, 2]} and d["items"] == [{"a": 1, "pair": [2, 2]}]
    docs = field_docs(_Inner)
    assert docs["a"] == "The a value." and docs["pair"] == "A pair."
    assert field_docs(_Outer)["other"] == "Two inner configs."
    paths = [lf.path for lf in leaves(_Outer())]
    assert paths == ["inner.a", "inner.pair", "other.a", "other.pair", "items.0.a",
                     "items.0.pair", "b"]  # fmt: skip


def test_model_parameters_have_one_owner():
    """Experiment configs hold the model's config: a model field is reached through it and its
    default is the model's unless the experiment says otherwise in its field's factory."""
    from neuromem.pmi.config import BabiModelConfig, TrainConfig
    from neuromem.sparsey import LevelConfig

    cap = resolve_config(experiments.get("sparsey-capacity").config)
    assert cap.model.levels[0].G_min == 0.9  # the experiment's documented choice
    sisc = resolve_config(experiments.get("sparsey-sisc").config)
    assert sisc.model.levels[0].G_min == 0.0  # the experiment's documented choice (issue 15)
    assert sisc.model.levels[0].lambda_u == LevelConfig.lambda_u  # the model's default
    babi = resolve_config(experiments.get("pmi-babi").config, {"word_weights": "mean"})
    assert isinstance(babi.model, BabiModelConfig) and isinstance(babi.train, TrainConfig)
    assert babi.model.word_weights == "mean"
    for e in experiments.experiments():
        flat = {f.name for f in dataclasses.fields(e.config)}
        # no experiment copies a Sparsey CSA constant or a PMI module field at its top level
        assert not flat & {"G_min", "gamma", "chi", "word_weights", "key_dim", "n_slots"}, e.name


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sdr_overlap_measured_matches_analytic(seed):
    """Measured mean overlap within 4 standard errors; pmf error within a binomial bound."""
    n = 20000
    res = experiments.run("sdr-overlap", seed=seed, n_pairs=n)
    m = res["metrics"]
    se = m["overlap_standard_error"]
    assert abs(m["expected_overlap_measured"] - m["expected_overlap_analytic"]) < 4 * se
    mse = m["modular_overlap_standard_error"]
    assert (
        abs(m["modular_expected_overlap_measured"] - m["modular_expected_overlap_analytic"])
        < 4 * mse
    )
    # each empirical probability has s.d. <= sqrt(0.25 / n); 5 s.d. bounds the max over bins
    bound = 5 * np.sqrt(0.25 / n)
    assert m["max_abs_pmf_error"] < bound
    assert m["modular_max_abs_pmf_error"] < bound
    # and the standard error is the hypergeometric one
    cfg = res["config"]
    h = stats.hypergeom(cfg["size"], cfg["n_active"], cfg["n_active"])
    assert se == pytest.approx(np.sqrt(h.var() / n))


def test_sdr_overlap_detects_a_wrong_law():
    """The comparison has power: a law for the wrong size is far outside the error bound."""
    res = experiments.run("sdr-overlap", seed=0, n_pairs=20000)
    m = res["metrics"]
    wrong = 32 * 32 / 900  # analytic mean if the codes had 900 units instead of 1024
    assert abs(m["expected_overlap_measured"] - wrong) > 4 * m["overlap_standard_error"]


def test_every_config_field_is_documented():
    from neuromem.config import field_docs, leaves

    for e in experiments.experiments():
        cfg = resolve_config(e.config, experiment=e.name)
        missing = [lf.path for lf in leaves(cfg) if not field_docs(type(lf.owner)).get(lf.name)]
        assert not missing, f"{e.name}: undocumented fields {missing}"
