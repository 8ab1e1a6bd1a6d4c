"""The tensor brain of Tresp et al.: knowledge-graph tensor models, the semantic decoder,
episodic and semantic memory.

* :mod:`~neuromem.tensorbrain.models`: RESCAL, DistMult, ComplEx and Tucker trained 1-vs-all.
* :mod:`~neuromem.tensorbrain.evaluation`: filtered ranking (MRR, Hits@k).
* :mod:`~neuromem.tensorbrain.decoder`: the four-layer semantic decoder and its memories.
* :mod:`~neuromem.tensorbrain.scenes`: synthetic worlds of episodes with sensory vectors.
"""

from .evaluation import FilterIndex, evaluate_ranking, rank_metrics, ranks_from_scores
from .models import MODELS, Adam, TensorModel

__all__ = [
    "MODELS",
    "Adam",
    "FilterIndex",
    "TensorModel",
    "evaluate_ranking",
    "rank_metrics",
    "ranks_from_scores",
]
