"""Companion package to *Emergence of hybrid computational dynamics through reinforcement
learning* (arXiv:2510.11162).

The subpackages are layers of one data flow, config -> run -> store -> analysis -> notebook
-> book; each imports only the layers before it (``tests/test_layers.py`` checks it):

1. :mod:`lib.core`: the task (trials, named channels, the one input encoding, trial streams)
   and the network (the one torch step, the one float64 map);
2. :mod:`lib.train`: evaluation, the shared stopping rule, the SL and PPO trainers;
3. :mod:`lib.store`: runs and cached analyses on disk, environment information;
4. :mod:`lib.analysis`: orbit and fixed-point dynamics, the census, linear stability,
   populations, robustness, balance, sculpting, information, statistics;
5. :mod:`lib.pipelines`: the smoke and paper profiles, sweeps, notebook parameters -> runs;
6. :mod:`lib.report`: verdicts on the claims, the variants, the settings table, figure style.

``python -m lib`` is the command line (:mod:`lib.__main__`).
"""

__version__ = "0.1.0"
