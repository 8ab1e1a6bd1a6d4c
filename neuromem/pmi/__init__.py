"""PMI memory consolidation (Zeng et al., arXiv 2310.09297, ICLR 2024).

Working memory with competitive write, long-term memory by outer-product consolidation,
inference from both memories.

Modules
-------
core
    The module as plain NumPy/Numba functions over arrays (:func:`pmi_step`).
torch_model
    The same module in PyTorch for training (optional extra ``neuromem[torch]``; imported
    lazily), the PMI Transformer and its same-size baseline.
training
    Training and evaluation loops for bAbI and Sort-of-CLEVR (needs torch).
"""

from .core import (
    WEIGHT_NAMES,
    PMIConfig,
    init_long_term_memory,
    init_weights,
    init_working_memory,
    layer_norm,
    multihead_attention,
    pmi_run,
    pmi_step,
    weight_shapes,
)

__all__ = [
    "PMIConfig",
    "WEIGHT_NAMES",
    "init_weights",
    "init_working_memory",
    "init_long_term_memory",
    "layer_norm",
    "multihead_attention",
    "pmi_step",
    "pmi_run",
    "weight_shapes",
]
