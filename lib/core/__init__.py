"""Layer 1, the model: the CtxDM task (:mod:`lib.core.task`) and the ReLU RNN
(:mod:`lib.core.network`). Imports nothing else of ``lib``."""
