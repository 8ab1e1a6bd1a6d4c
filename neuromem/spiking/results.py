"""What a simulation returns: spikes per population (NumPy, Neo) and weights per projection."""

from __future__ import annotations

import numpy as np

__all__ = ["SimulationResult"]


class SimulationResult:
    """Spikes and weights of a simulated network.

    Parameters
    ----------
    spikes : dict of str to (ndarray, ndarray)
        Per population label: spike times (ms, float) and neuron indices (int), sorted by time
        then neuron.
    sizes : dict of str to int
        Population sizes.
    weights : dict of str to ndarray
        Per projection label: ``(n_pre, n_post)`` weight matrix (nA), NaN where there is no
        synapse (PyNN's ``get("weight", format="array")``).
    duration : float
        Simulated time (ms).
    backend : str
        Name of the backend that produced it.
    """

    def __init__(self, spikes, sizes, weights, duration, backend):
        self._spikes = spikes
        self.sizes = dict(sizes)
        self.weights = weights
        self.duration = float(duration)
        self.backend = backend

    @property
    def labels(self) -> list[str]:
        """Labels of the recorded populations."""
        return list(self._spikes)

    def _check(self, label: str) -> None:
        if label not in self._spikes:
            raise ValueError(
                f"label: no recorded population {label!r}; recorded: {', '.join(self._spikes)}"
            )

    def spikes(self, label: str) -> tuple[np.ndarray, np.ndarray]:
        """Spike times (ms) and neuron indices of population ``label``.

        Raises
        ------
        ValueError
            Unknown or unrecorded population.
        """
        self._check(label)
        return self._spikes[label]

    def spike_trains(self, label: str) -> list[np.ndarray]:
        """Spike times (ms) of each neuron of ``label``."""
        t, i = self.spikes(label)
        return [t[i == k] for k in range(self.sizes[label])]

    def spike_counts(self) -> dict[str, int]:
        """Number of spikes per recorded population."""
        return {k: len(v[0]) for k, v in self._spikes.items()}

    def to_neo(self, label: str | None = None):
        """Spikes as Neo objects.

        Parameters
        ----------
        label : str, optional
            A population: returns a :class:`neo.Segment` holding one
            :class:`neo.SpikeTrain` per neuron (annotated with ``source_index``). Without a
            label: a :class:`neo.Block` with one such segment per population.

        Returns
        -------
        neo.Segment or neo.Block
        """
        import neo
        import quantities as pq

        if label is None:
            block = neo.Block(name="spikes")
            for lab in self._spikes:
                block.segments.append(self.to_neo(lab))
            return block
        seg = neo.Segment(name=label)
        for k, times in enumerate(self.spike_trains(label)):
            st = neo.SpikeTrain(
                times * pq.ms,
                t_start=0.0 * pq.ms,
                t_stop=max(self.duration, float(times.max(initial=0.0)) + 1.0) * pq.ms,
                name=f"{label}[{k}]",
            )
            st.annotate(source_population=label, source_index=k)
            seg.spiketrains.append(st)
        return seg

    def __repr__(self) -> str:
        return (
            f"SimulationResult({self.backend}, {self.duration} ms, "
            f"{sum(self.spike_counts().values())} spikes)"
        )
