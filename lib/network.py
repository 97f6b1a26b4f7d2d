r"""The vanilla ReLU RNN shared by both learning algorithms.

.. math::

    h_t = (1-\alpha)\,h_{t-1} + \alpha\,\mathrm{ReLU}(W_{rec} h_{t-1} + W_{in} x_t + b),
    \qquad h_0 = 0,

with :math:`\alpha = 1` (no leak) by default. Policy logits :math:`W_{out} h_t + b_{out}`
(3 actions); value :math:`w_v \cdot h_t + b_v` (used by PPO only, a second head on the shared
core).

Initialisation: :math:`W_{rec}, W_{in} \sim U(-\delta, \delta)`; :math:`W_{out}, w_v \sim
U(-0.1, 0.1)`; the biases :math:`b, b_{out}, b_v` start at 0 (a companion choice: the paper
does not say). For N = 250 the bulk spectral radius of :math:`W_{rec}` is
:math:`\delta\sqrt{N/3} \approx 9.13\,\delta`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .task import N_ACTIONS, N_INPUTS

__all__ = ["NetworkConfig", "RNN", "export_weights", "load_weights_npz", "simulate_numpy"]


@dataclass(frozen=True)
class NetworkConfig:
    """Architecture and initialisation of the RNN.

    Parameters
    ----------
    hidden : int
        Number of recurrent units N.
    delta : float
        Half-width of the uniform initialisation of ``W_rec`` and ``W_in``.
    readout_scale : float
        Half-width of the uniform initialisation of the readout and value weights.
    alpha : float
        Leak ``dt / tau`` in (0, 1]; 1 means no leak (the paper's vanilla RNN).
    """

    hidden: int = field(default=250, metadata={"source": "paper"})
    delta: float = field(
        default=0.1,
        metadata={
            "source": "companion",
            "why": "bulk spectral radius ~9.13*delta = 0.91 at N=250: stable, just below the "
            "edge of chaos; the paper sweeps delta but gives no default",
        },
    )
    readout_scale: float = field(default=0.1, metadata={"source": "paper"})
    alpha: float = field(default=1.0, metadata={"source": "paper", "why": "vanilla RNN, no leak"})

    def __post_init__(self) -> None:
        if not (isinstance(self.hidden, int) and self.hidden > 0):
            raise ValueError(f"NetworkConfig.hidden must be a positive int, got {self.hidden!r}")
        if not (self.delta > 0 and math.isfinite(self.delta)):
            raise ValueError(f"NetworkConfig.delta must be > 0, got {self.delta!r}")
        if not self.readout_scale > 0:
            raise ValueError(f"NetworkConfig.readout_scale must be > 0, got {self.readout_scale!r}")
        if not (0 < self.alpha <= 1):
            raise ValueError(f"NetworkConfig.alpha must lie in (0, 1], got {self.alpha!r}")

    @property
    def expected_spectral_radius(self) -> float:
        """Bulk radius of the circular law for U(-delta, delta): ``delta * sqrt(N / 3)``."""
        return self.delta * math.sqrt(self.hidden / 3.0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict of all fields."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NetworkConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise."""
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown NetworkConfig fields: {sorted(unknown)}")
        return cls(**d)


class RNN(nn.Module):
    """ReLU RNN with a policy (3 logits) and a value head.

    Parameters
    ----------
    cfg : NetworkConfig
    generator : torch.Generator, optional
        Source of the initial weights (seed it for reproducible networks).
    """

    def __init__(self, cfg: NetworkConfig, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        n = cfg.hidden
        g = generator

        def uniform(shape: tuple[int, ...], half: float) -> nn.Parameter:
            return nn.Parameter((torch.rand(shape, generator=g) * 2 - 1) * half)

        self.W_rec = uniform((n, n), cfg.delta)
        self.W_in = uniform((n, N_INPUTS), cfg.delta)
        self.b = nn.Parameter(torch.zeros(n))
        self.W_out = uniform((N_ACTIONS, n), cfg.readout_scale)
        self.b_out = nn.Parameter(torch.zeros(N_ACTIONS))
        self.w_v = uniform((1, n), cfg.readout_scale)
        self.b_v = nn.Parameter(torch.zeros(1))

    @property
    def hidden(self) -> int:
        """Number of recurrent units."""
        return self.cfg.hidden

    def step(self, h: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """One update given the input drive ``u = W_in x + b`` (``[B, N]``)."""
        a = self.cfg.alpha
        new = torch.relu(torch.addmm(u, h, self.W_rec.t()))
        return new if a == 1.0 else (1 - a) * h + a * new

    def forward(
        self,
        x: torch.Tensor,
        h0: torch.Tensor | None = None,
        reset: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Run the network over a time-major sequence.

        Parameters
        ----------
        x : Tensor ``[T, B, 7]``
        h0 : Tensor ``[B, N]``, optional
            State before the first step (zeros by default).
        reset : Tensor ``[T, B]`` (bool), optional
            Where True, the state is set to 0 *before* step t (a new trial starts at t).

        Returns
        -------
        hs : Tensor ``[T, B, N]``
        logits : Tensor ``[T, B, 3]``
        values : Tensor ``[T, B]``
        """
        T, B, _ = x.shape
        h = x.new_zeros(B, self.hidden) if h0 is None else h0
        u = torch.addmm(self.b, x.reshape(T * B, -1), self.W_in.t()).reshape(T, B, -1)
        keep = None if reset is None else (~reset).to(x.dtype).unsqueeze(-1)
        hs = []
        for t in range(T):
            if keep is not None:
                h = h * keep[t]
            h = self.step(h, u[t])
            hs.append(h)
        H = torch.stack(hs)
        return H, self.policy(H), self.value(H)

    def policy(self, h: torch.Tensor) -> torch.Tensor:
        """Action logits from states ``[..., N]``."""
        return h @ self.W_out.t() + self.b_out

    def value(self, h: torch.Tensor) -> torch.Tensor:
        """State values from states ``[..., N]``."""
        return (h @ self.w_v.t()).squeeze(-1) + self.b_v


def export_weights(net: RNN, path: str | Path) -> None:
    """Write ``weights.npz`` so the network runs without this package.

    Arrays: ``W_rec [N, N]``, ``W_in [N, 7]``, ``b [N]``, ``W_out [3, N]``, ``b_out [3]``,
    ``w_v [1, N]``, ``b_v [1]``, ``alpha`` (scalar; 1.0 when not leaky).
    """
    sd = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    with open(path, "wb") as f:
        np.savez(f, **sd, alpha=np.float64(net.cfg.alpha))


def load_weights_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Read a ``weights.npz`` into a dict of arrays."""
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def simulate_numpy(weights: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference NumPy simulator of a stored network (PsychRNN-style).

    Parameters
    ----------
    weights : dict
        As returned by :func:`load_weights_npz`.
    x : array ``[T, B, 7]``

    Returns
    -------
    hs : array ``[T, B, N]`` and logits ``[T, B, 3]``.
    """
    W, Win, b = weights["W_rec"], weights["W_in"], weights["b"]
    a = float(weights["alpha"])
    h = np.zeros((x.shape[1], W.shape[0]), dtype=W.dtype)
    hs = np.empty((x.shape[0], x.shape[1], W.shape[0]), dtype=W.dtype)
    for t in range(x.shape[0]):
        h = (1 - a) * h + a * np.maximum(h @ W.T + x[t] @ Win.T + b, 0.0)
        hs[t] = h
    return hs, hs @ weights["W_out"].T + weights["b_out"]
