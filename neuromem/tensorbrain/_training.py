"""The multi-task mini-batch loop shared by the decoders (``TensorBrain.fit``,
``SceneBrain.fit``): Adam, batches of every task interleaved at random, weight decay,
learning-rate schedule, an opt-in wall-clock budget."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from .models import Adam

__all__ = ["SCHEDULES", "train_multitask"]

#: learning-rate schedules of :func:`train_multitask`
SCHEDULES = ("constant", "cosine")


def train_multitask(
    params: dict,
    sizes: Sequence[int],
    step: Callable,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    rng: np.random.Generator,
    weight_decay: float = 0.0,
    decays: Callable[[str], bool] = lambda k: True,
    schedule: str = "constant",
    time_budget: float | None = None,
    callback=None,
) -> list[float]:
    """Train ``params`` in place; returns the mean loss per epoch.

    Each epoch draws a permutation of every task's rows (``sizes[i]`` rows of task ``i``),
    cuts it into batches of ``batch_size``, and visits all batches of all tasks in one
    random order; ``step(i, rows)`` returns ``(loss, grads)`` of task ``i`` on those rows.
    Weight decay adds ``weight_decay * theta`` to the gradient of each parameter for which
    ``decays(name)`` holds. ``schedule="cosine"`` sets the rate of epoch ``e`` to
    ``lr (1 + cos(pi e / epochs)) / 2``. With ``time_budget`` (seconds), training stops
    after the epoch that crosses it. The arguments are checked by the callers.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule: expected one of {SCHEDULES}, got {schedule!r}")
    opt = Adam(params, lr=lr)
    t0 = time.perf_counter()
    out: list[float] = []
    for ep in range(epochs):
        if schedule == "cosine":
            opt.lr = lr * 0.5 * (1.0 + np.cos(np.pi * ep / epochs))
        batches = []
        for ti, n in enumerate(sizes):
            order = rng.permutation(n)
            batches += [(ti, order[s : s + batch_size]) for s in range(0, n, batch_size)]
        total = 0.0
        for j in rng.permutation(len(batches)):
            ti, idx = batches[j]
            loss, grads = step(ti, idx)
            if weight_decay > 0:
                for k, v in params.items():
                    if decays(k):
                        grads[k] += weight_decay * v
            opt.step(grads)
            total += loss
        out.append(total / len(batches))
        if callback is not None:
            callback(ep, out[-1])
        if time_budget is not None and time.perf_counter() - t0 > time_budget:
            break
    return out
