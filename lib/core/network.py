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

from lib.core.task import (
    N_ACTIONS,
    N_INPUTS,
    STREAM_TRIALS,
    TRIAL_REGIMES,
    TaskConfig,
    Trials,
    sample_trials,
    stream_trials,
)

__all__ = [
    "NetworkConfig",
    "RNN",
    "ReLUMap",
    "export_weights",
    "load_weights_npz",
    "context_trials",
    "rnn_step",
    "run_trials",
    "simulate_numpy",
]

Array = np.ndarray


def rnn_step(
    h: torch.Tensor,
    u: torch.Tensor,
    W_rec: torch.Tensor,
    *,
    alpha: float = 1.0,
    carry: torch.Tensor | None = None,
    input_noise: torch.Tensor | None = None,
    state_noise: torch.Tensor | None = None,
    unit_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""The one update of the ReLU RNN (PsychRNN's ``rnn_step``; every torch caller uses it).

    .. math::

        \tilde h = k \odot h, \qquad
        h' = m \odot \big[(1-\alpha)\,\tilde h
              + \alpha\,\mathrm{ReLU}(W_{rec}\tilde h + u + \xi) + \eta\big]

    with the carry ``k`` (reset hook), the input noise ``xi``, the state noise ``eta`` and the
    unit mask ``m``; each hook is skipped when it is None, so the plain step is
    :math:`\mathrm{ReLU}(W_{rec} h + u)` computed by one ``addmm``.

    Parameters
    ----------
    h : Tensor ``[B, N]``
        State before the step.
    u : Tensor ``[B, N]``
        Input drive ``W_in x + b`` (:meth:`RNN.drive`).
    W_rec : Tensor ``[N, N]`` or ``[G, N, N]``
        Recurrent weights (perturbed ones are simply passed here). With G matrices the batch
        is G blocks of ``B / G`` rows, block g run with ``W_rec[g]`` (one batched GEMM).
    alpha : float
        Leak ``dt / tau`` in (0, 1]; 1 (no leak) returns the ReLU output itself.
    carry : Tensor ``[B]``, optional
        Multiplies the state before the update: 1 carries it over, 0 resets it to zero (a new
        trial starts at this step; CleanRL's ``1 - done``). Bool tensors are cast.
    input_noise : Tensor ``[B, N]``, optional
        Added to the input drive inside the ReLU (noise of the inputs, mapped through
        ``W_in``, or private noise of the units' input).
    state_noise : Tensor ``[B, N]``, optional
        Added to the state after the update (recurrent noise).
    unit_mask : Tensor ``[N]`` or ``[B, N]``, optional
        Multiplies the new state: 0 silences (ablates) a unit, 1 keeps it.

    Returns
    -------
    Tensor ``[B, N]``
        The state after the step.
    """
    if carry is not None:
        h = h * carry.to(h.dtype).unsqueeze(-1)
    if input_noise is not None:
        u = u + input_noise
    if W_rec.dim() == 2:
        pre = torch.addmm(u, h, W_rec.t())
    else:
        G, N = W_rec.shape[0], W_rec.shape[-1]
        B = h.shape[0] // G
        pre = torch.baddbmm(u.view(G, B, N), h.view(G, B, N), W_rec.transpose(1, 2))
        pre = pre.view(G * B, N)
    new = torch.relu(pre)
    if alpha != 1.0:
        new = (1 - alpha) * h + alpha * new
    if state_noise is not None:
        new = new + state_noise
    if unit_mask is not None:
        new = new * unit_mask
    return new


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
    alpha: float = field(
        default=1.0,
        metadata={
            "source": "paper",
            "why": "'vanilla RNN', read as no leak; the leaky variant (chapter 8) tests alpha < 1",
        },
    )

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

    def drive(self, x: torch.Tensor) -> torch.Tensor:
        """Input drive ``W_in x + b`` of inputs ``[..., 7]`` (one GEMM), shape ``[..., N]``."""
        lead = x.shape[:-1]
        return torch.addmm(self.b, x.reshape(-1, x.shape[-1]), self.W_in.t()).reshape(*lead, -1)

    def step(
        self,
        h: torch.Tensor,
        u: torch.Tensor,
        *,
        carry: torch.Tensor | None = None,
        W_rec: torch.Tensor | None = None,
        input_noise: torch.Tensor | None = None,
        state_noise: torch.Tensor | None = None,
        unit_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """One update given the input drive ``u = W_in x + b`` (``[B, N]``): :func:`rnn_step`
        with this network's ``W_rec`` (unless ``W_rec`` is given) and leak, and the hooks."""
        return rnn_step(
            h,
            u,
            self.W_rec if W_rec is None else W_rec,
            alpha=self.cfg.alpha,
            carry=carry,
            input_noise=input_noise,
            state_noise=state_noise,
            unit_mask=unit_mask,
        )

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
            Where True, the state is set to 0 *before* step t (a new trial starts at t): the
        carry hook of :func:`rnn_step` is ``~reset[t]``.

        Returns
        -------
        hs : Tensor ``[T, B, N]``
        logits : Tensor ``[T, B, 3]``
        values : Tensor ``[T, B]``
        """
        T, B, _ = x.shape
        h = x.new_zeros(B, self.hidden) if h0 is None else h0
        # unbind, not u[t]: the backward of T selections would write T zero tensors of u's
        # full size (O(T^2), 80 % of a PPO update); unbind's backward stacks the T slices once
        # (the same gradient, value for value)
        us = self.drive(x).unbind(0)
        keeps = [None] * T if reset is None else (~reset).unbind(0)
        hs = []
        for u_t, keep_t in zip(us, keeps, strict=True):
            h = self.step(h, u_t, carry=keep_t)
            hs.append(h)
        H = torch.stack(hs)
        return H, self.policy(H), self.value(H)

    def policy(self, h: torch.Tensor) -> torch.Tensor:
        """Action logits from states ``[..., N]``."""
        return h @ self.W_out.t() + self.b_out

    def value(self, h: torch.Tensor) -> torch.Tensor:
        """State values from states ``[..., N]``."""
        return (h @ self.w_v.t()).squeeze(-1) + self.b_v


def run_trials(
    net: RNN, trials: Trials, regime: str = "reset", n_streams: int | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Run a network over a batch of trials in a trial regime (the one switch of it).

    Parameters
    ----------
    net : RNN
    trials : Trials
    regime : {"reset", "continuous"}
        ``reset``: every trial from h = 0 (exactly ``net(trials.inputs)``); ``continuous``:
        the trials back to back in streams (:func:`lib.core.task.stream_trials`), the state carried
        from each trial into the next.
    n_streams : int, optional
        Streams of the continuous regime (default: about 20 trials per stream).

    Returns
    -------
    hs, logits, values : Tensors ``[T, B, N]``, ``[T, B, 3]``, ``[T, B]``
        In the batch's per-trial layout whatever the regime (zero on padding when
        continuous), so every caller indexes them the same way.
    """
    if regime not in TRIAL_REGIMES:
        raise ValueError(f"trial regime must be one of {TRIAL_REGIMES}, got {regime!r}")
    if regime == "reset":
        return net(trials.inputs)
    st = stream_trials(trials, n_streams)
    hs, logits, values = net(st.inputs)
    return st.unstream(hs), st.unstream(logits), st.unstream(values)


def context_trials(
    net: RNN, task: TaskConfig, n: int, generator: torch.Generator, context: int
) -> tuple[Trials, torch.Tensor, torch.Tensor]:
    """``n`` fresh trials of one context, run in the task's trial regime.

    ``reset``: exactly ``sample_trials(task, n, generator, context=...)`` run from h = 0.
    ``continuous``: trials of both contexts are drawn freely and run back to back in streams
    (:func:`run_trials`), and the first ``n`` of ``context`` that follow another trial in their
    stream are kept, so each one's initial state holds a real previous trial of either context.

    Returns
    -------
    trials, hs, logits : the kept trials and their states ``[T, n, N]`` and logits.
    """
    if task.trials == "reset":
        tr = sample_trials(task, n, generator, context=torch.full((n,), context))
        hs, logits, _ = net(tr.inputs)
        return tr, hs, logits
    m = 4 * n + 2 * STREAM_TRIALS
    while True:
        tr = sample_trials(task, m, generator)
        hs, logits, _ = run_trials(net, tr, "continuous")
        S = math.ceil(m / STREAM_TRIALS)
        ok = (tr.context == context) & (torch.arange(m) >= S)  # not a stream's first trial
        idx = torch.nonzero(ok).squeeze(1)[:n]
        if len(idx) == n:
            return tr.select(idx), hs[:, idx], logits[:, idx]
        m *= 2


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


class ReLUMap:
    r"""The one float64 NumPy map of the network, with its Jacobian and tangent map.

    .. math:: F(h) = (1-\alpha)\,h + \alpha\,\mathrm{ReLU}(W h + c), \qquad
              J(h) = (1-\alpha) I + \alpha\,\mathrm{diag}(W h + c > 0)\,W.

    States are rows: ``h`` is ``(n,)`` or ``(B, n)``. ``c`` is one drive ``(n,)`` for every row,
    or one per row ``(M, n)``; then the methods take the row indices ``idx`` of the states
    into ``c`` (all M rows when None), and ``c[idx]`` is kept while ``idx`` stays the same
    object (the orbit classifier retires rows only now and then).

    Parameters
    ----------
    W : array ``(n, n)``
        Recurrent weights.
    c : array ``(n,)`` or ``(M, n)``
        Constant drive ``W_in x + b``.
    alpha : float
        Leak in (0, 1]; 1 (default) is the vanilla map ``ReLU(W h + c)``.
    """

    def __init__(self, W: Array, c: Array, alpha: float = 1.0) -> None:
        self.W = np.asarray(W, dtype=np.float64)
        self.c = np.asarray(c, dtype=np.float64)
        self.alpha = float(alpha)
        self._idx: Array | None = None
        self._rows: Array | None = None

    def drive(self, idx: Array | None = None) -> Array:
        """The drive of the rows ``idx`` (``c`` itself when ``c`` is shared or idx is None)."""
        if idx is None or self.c.ndim == 1:
            return self.c
        if self._idx is not idx:
            self._idx, self._rows = idx, self.c[idx]
        return self._rows  # type: ignore[return-value]

    def preactivation(self, h: Array, idx: Array | None = None) -> Array:
        """``h W^T + c`` (a new array)."""
        pre = h @ self.W.T
        pre += self.drive(idx)
        return pre

    def output(self, h: Array, pre: Array) -> Array:
        """``F(h)`` from its pre-activation ``pre`` (:meth:`preactivation`, overwritten)."""
        new = np.maximum(pre, 0.0, out=pre)
        return new if self.alpha == 1.0 else (1 - self.alpha) * h + self.alpha * new

    def step(self, h: Array, idx: Array | None = None) -> Array:
        """``F(h)``."""
        return self.output(h, self.preactivation(h, idx))

    def pattern(self, h: Array, idx: Array | None = None) -> Array:
        """Active units ``W h + c > 0`` (bool, the diagonal of the Jacobian's ReLU part)."""
        return self.preactivation(h, idx) > 0

    def jacobian(self, h: Array, idx: Array | None = None) -> Array:
        """``J(h)``, ``(B, n, n)`` for states ``(B, n)``."""
        J = self.pattern(h, idx)[..., :, None] * self.W
        if self.alpha != 1.0:
            J = self.alpha * J + (1 - self.alpha) * np.eye(len(self.W))
        return J

    def advance(self, h: Array, Q: Array, idx: Array | None = None) -> tuple[Array, Array]:
        """``F(h)`` and the tangent vectors ``J(h) q`` of the rows q of ``Q (B, k, n)``, fused
        (one pre-activation, one GEMM for the tangents)."""
        pre = self.preactivation(h, idx)
        B, k, n = Q.shape
        Z = (Q.reshape(B * k, n) @ self.W.T).reshape(B, k, n)
        Z *= (pre > 0)[:, None, :]
        if self.alpha != 1.0:
            Z = self.alpha * Z + (1 - self.alpha) * Q
        return self.output(h, pre), Z

    def jvp(self, h: Array, Q: Array, idx: Array | None = None) -> Array:
        """``J(h) Q`` for column tangents ``Q (B, n, k)`` (the layout of
        :func:`lib.analysis.dynamics.classify_orbits`); the same arithmetic as :meth:`advance`."""
        return self.advance(h, np.ascontiguousarray(Q.transpose(0, 2, 1)), idx)[1].transpose(
            0, 2, 1
        )


def simulate_numpy(weights: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference NumPy simulator of a stored network (PsychRNN-style), in float64.

    Each step is :class:`ReLUMap` with the drive ``W_in x_t + b`` of that step.

    Parameters
    ----------
    weights : dict
        As returned by :func:`load_weights_npz`.
    x : array ``[T, B, 7]``

    Returns
    -------
    hs : array ``[T, B, N]`` and logits ``[T, B, 3]`` (float64).
    """
    W = np.asarray(weights["W_rec"], dtype=np.float64)
    Win = np.asarray(weights["W_in"], dtype=np.float64)
    b = np.asarray(weights["b"], dtype=np.float64)
    a = float(weights["alpha"])
    x = np.asarray(x, dtype=np.float64)
    h = np.zeros((x.shape[1], W.shape[0]))
    hs = np.empty((x.shape[0], x.shape[1], W.shape[0]))
    for t in range(x.shape[0]):
        h = ReLUMap(W, x[t] @ Win.T + b, a).step(h)
        hs[t] = h
    W_out = np.asarray(weights["W_out"], dtype=np.float64)
    return hs, hs @ W_out.T + np.asarray(weights["b_out"], dtype=np.float64)
