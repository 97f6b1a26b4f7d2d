"""Companion package to *Emergence of hybrid computational dynamics through reinforcement
learning* (arXiv:2510.11162): the CtxDM task, ReLU RNNs, PPO and supervised trainers, and
the run store. One module per concept: :mod:`lib.task`, :mod:`lib.network`,
:mod:`lib.supervised`, :mod:`lib.ppo`, :mod:`lib.training`, :mod:`lib.evaluation`,
:mod:`lib.store`, :mod:`lib.provenance`.
"""

__version__ = "0.1.0"
