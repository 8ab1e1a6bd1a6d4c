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

# The package re-exports exactly the public names of core.
from . import core
from .core import *  # noqa: F403

__all__ = core.__all__
