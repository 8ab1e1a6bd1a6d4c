"""The memory guard of neuromem._resources (issue 17: sizes refused before allocation)."""

from __future__ import annotations

import pytest

from neuromem import _resources


def test_limit_from_the_environment_and_the_machine(monkeypatch):
    monkeypatch.delenv(_resources.ENV_LIMIT, raising=False)
    machine = _resources.memory_limit()
    assert machine is None or machine > 1 << 26
    for text, want in (("1.5G", 3 << 29), ("512M", 1 << 29), ("2048", 2048), ("1 GiB", 1 << 30)):
        monkeypatch.setenv(_resources.ENV_LIMIT, text)
        assert _resources.memory_limit() == want
    for bad in ("lots", "-1G", "0", "nanG"):
        monkeypatch.setenv(_resources.ENV_LIMIT, bad)
        with pytest.raises(ValueError, match=_resources.ENV_LIMIT):
            _resources.memory_limit()


def test_check_memory_names_what_and_gives_both_sizes(monkeypatch):
    monkeypatch.setenv(_resources.ENV_LIMIT, "23G")
    _resources.check_memory(22 * 2**30, "size=5")
    with pytest.raises(ValueError) as e:
        _resources.check_memory(74 * 2**30, "size=1000000000")
    assert str(e.value) == "size=1000000000: needs about 74 GiB; this machine has 23 GiB"
    with pytest.raises(ValueError, match="needs about"):
        _resources.check_memory(float("inf"), "K=1e300")
    assert _resources.format_bytes(1.5 * 2**20) == "1.5 MiB"
    assert _resources.format_bytes(7 * 2**40) == "7.0 TiB"
