"""Fixtures of the backend tests: skip with the reason when a backend is not usable here."""

from __future__ import annotations

import pytest


def needs(name: str) -> None:
    """Skip the calling test, with the reason, when backend ``name`` is not usable here."""
    from neuromem.spiking.backends import probe

    st = probe(name)
    if not st.available:
        pytest.skip(f"{name} not usable here: {st.reason}")


@pytest.fixture
def pynn_brian2():
    """The name ``"pynn:brian2"``, or a skip when pyNN.brian2 is not usable."""
    needs("pynn:brian2")
    yield "pynn:brian2"


@pytest.fixture
def pynn_spinnaker(spinnaker_home):
    """``spinnaker_home`` (a HOME with a virtual-board cfg), or a skip when sPyNNaker is not
    usable."""
    needs("pynn:spiNNaker")
    return spinnaker_home
