"""What a simulation returns: spikes and recorded membrane potentials per population (NumPy,
Neo) and weights per projection."""

from __future__ import annotations

import numpy as np

__all__ = ["SimulationResult"]


class SimulationResult:
    """Spikes, membrane potentials and weights of a simulated network.

    Parameters
    ----------
    spikes : dict of str to (ndarray, ndarray)
        Per population label: spike times (ms, float) and neuron indices (int), sorted by time
        then neuron.
    sizes : dict of str to int
        Population sizes, in the network's order (Neo channel ids count along it).
    weights : dict of str to ndarray
        Per projection label: ``(n_pre, n_post)`` weight matrix (nA), NaN where there is no
        synapse (PyNN's ``get("weight", format="array")``).
    duration : float
        Simulated time (ms).
    backend : str
        Name of the backend that produced it.
    dt : float, optional
        Time step (ms): the sampling period of recorded membrane potentials.
    signals : dict of str to ndarray, optional
        Per population whose ``v`` was recorded: ``(n_samples, size)`` membrane potentials
        (mV), sample ``k`` at ``k * dt`` ms (the value at the start of that step, as PyNN and
        sPyNNaker record it). A population recorded by a backend that returned no samples
        (a virtual SpiNNaker board) is absent.
    provenance : dict, optional
        What the backend reported about the run itself (``pynn:spiNNaker``: the summary of
        :func:`neuromem.spiking.provenance.summarise`); None when the backend reports none.
    """

    def __init__(
        self, spikes, sizes, weights, duration, backend, dt=None, signals=None, provenance=None
    ):
        self._spikes = spikes
        self.sizes = dict(sizes)
        self.weights = weights
        self.duration = float(duration)
        self.backend = backend
        self.dt = None if dt is None else float(dt)
        self._signals = dict(signals or {})
        self.provenance = provenance

    @property
    def labels(self) -> list[str]:
        """Labels of the populations whose spikes were recorded."""
        return list(self._spikes)

    @property
    def v_labels(self) -> list[str]:
        """Labels of the populations whose membrane potential came back."""
        return list(self._signals)

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

    def v(self, label: str) -> np.ndarray:
        """Membrane potential (mV) of ``label``: ``(n_samples, size)``, sample ``k`` at
        ``k * dt`` ms.

        Raises
        ------
        ValueError
            ``v`` of ``label`` was not recorded, or the backend returned none (a virtual
            SpiNNaker board returns no recorded data).
        """
        if label not in self._signals:
            got = ", ".join(self._signals) or "none"
            raise ValueError(
                f"label: no membrane potential of {label!r} (populations with v: {got}); record "
                "it with Population.set_record(('spikes', 'v')), and note that a virtual "
                "SpiNNaker board returns no recorded data"
            )
        return self._signals[label]

    def spike_trains(self, label: str) -> list[np.ndarray]:
        """Spike times (ms) of each neuron of ``label``."""
        t, i = self.spikes(label)
        o = np.argsort(i, kind="stable")
        bounds = np.searchsorted(i[o], np.arange(self.sizes[label] + 1))
        ts = t[o]
        return [ts[bounds[k] : bounds[k + 1]] for k in range(self.sizes[label])]

    def spike_counts(self) -> dict[str, int]:
        """Number of spikes per recorded population."""
        return {k: len(v[0]) for k, v in self._spikes.items()}

    def first_id(self, label: str) -> int:
        """Neo ``channel_id`` of neuron 0 of ``label``: the populations' sizes counted in the
        network's order from 0 (PyNN's cell ids, one id space for the whole network)."""
        if label not in self.sizes:
            raise ValueError(f"label: unknown population {label!r}")
        off = 0
        for lab, n in self.sizes.items():
            if lab == label:
                return off
            off += n
        raise AssertionError  # pragma: no cover

    def to_neo(self, label: str | None = None):
        """Recorded data as Neo, laid out as PyNN's ``Population.get_data()`` lays it out.

        One :class:`neo.Block` per population (``name`` the label; annotations ``size``,
        ``first_index``, ``last_index``, ``first_id``, ``last_id``, ``label``, ``simulator``,
        ``dt``, ``mpi_processes`` as PyNN writes them) holding one :class:`neo.Segment` for
        the simulation (``segment000``; PyNN starts a new segment only at ``reset()``, and
        successive runs extend the same one). Its spike trains are a
        :class:`neo.core.spiketrainlist.SpikeTrainList` built with
        ``SpikeTrainList.from_spike_time_array`` (as PyNN builds them): the trains are made
        only when first accessed, each annotated with ``source_population``,
        ``source_index`` (the neuron's index in its population) and ``channel_id`` (its id,
        see :meth:`first_id`), from ``t_start = 0`` to ``t_stop = duration``. A recorded
        membrane potential is an :class:`neo.AnalogSignal` named ``"v"`` in mV with sampling
        period ``dt``, ``channel_ids``, ``source_population`` and the array annotation
        ``channel_index``.

        Parameters
        ----------
        label : str, optional
            A population. Without it: every population with recorded data.

        Returns
        -------
        neo.Block or dict of str to neo.Block
            The population's Block, or one Block per population by label.

        Raises
        ------
        ValueError
            A population with nothing recorded.
        """
        if label is None:
            labs = [lab for lab in self.sizes if lab in self._spikes or lab in self._signals]
            return {lab: self.to_neo(lab) for lab in labs}
        if label not in self._spikes and label not in self._signals:
            self._check(label)
        import neo
        import quantities as pq
        from neo.core.spiketrainlist import SpikeTrainList

        size = self.sizes[label]
        first = self.first_id(label)
        ids = np.arange(first, first + size, dtype=np.int64)
        desc = f"Population {label!r} of {size} neurons, simulated with {self.backend}"
        block = neo.Block(name=label, description=desc)
        block.annotate(
            size=size,
            first_index=0,
            last_index=size,
            first_id=first,
            last_id=first + size - 1,
            label=label,
            simulator=self.backend,
            dt=self.dt,
            mpi_processes=1,
        )
        seg = neo.Segment(name="segment000", description=desc)
        seg.block = block
        block.segments.append(seg)
        if label in self._spikes:
            t, i = self._spikes[label]
            seg.spiketrains = SpikeTrainList.from_spike_time_array(
                np.asarray(t, float),
                first + np.asarray(i, np.int64),
                ids,
                t_stop=self.duration * pq.ms,
                units="ms",
                t_start=0.0 * pq.ms,
                source_population=label,
                source_index=np.arange(size),
            )
            seg.spiketrains.segment = seg
        if label in self._signals:
            if self.dt is None:
                raise ValueError("dt: a result with a membrane potential needs its time step")
            sig = neo.AnalogSignal(
                self._signals[label],
                units="mV",
                t_start=0.0 * pq.ms,
                sampling_period=self.dt * pq.ms,
                name="v",
                channel_ids=ids,
                source_population=label,
                array_annotations={"channel_index": np.arange(size)},
            )
            sig.segment = seg
            seg.analogsignals.append(sig)
        return block

    def __repr__(self) -> str:
        return (
            f"SimulationResult({self.backend}, {self.duration} ms, "
            f"{sum(self.spike_counts().values())} spikes)"
        )
