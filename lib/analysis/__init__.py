"""Layer 4, what the networks compute: orbit classification, Lyapunov spectra and exact ReLU
fixed points (:mod:`lib.analysis.dynamics`), the coherence-space census
(:mod:`lib.analysis.census`), the linear-stability census (:mod:`lib.analysis.stability`),
populations and balance (:mod:`lib.analysis.populations`, :mod:`lib.analysis.balance`),
robustness (:mod:`lib.analysis.robustness`), analyses along training
(:mod:`lib.analysis.sculpting`), Gaussian-copula information (:mod:`lib.analysis.information`,
:mod:`lib.analysis.unit_information`) and statistics (:mod:`lib.analysis.stats`). Uses the
layers before it; cached results go through :mod:`lib.store`."""
