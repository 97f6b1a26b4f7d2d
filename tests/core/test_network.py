"""The ReLU RNN: initial distributions, dynamics, weight export."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lib.core.network import RNN, NetworkConfig, export_weights, load_weights_npz, simulate_numpy
from lib.core.task import TaskConfig, sample_trials


def test_init_distributions():
    delta = 0.12
    net = RNN(NetworkConfig(hidden=250, delta=delta), generator=torch.Generator().manual_seed(0))
    W = net.W_rec.detach().numpy()
    assert W.shape == (250, 250) and net.W_in.shape == (250, 7)
    assert np.abs(W).max() <= delta and np.abs(net.W_in.detach().numpy()).max() <= delta
    # U(-d, d): mean 0, variance d^2/3 (62,500 samples)
    assert abs(W.mean()) < 4 * delta / np.sqrt(3 * W.size)
    assert W.var() == pytest.approx(delta**2 / 3, rel=0.02)
    # uniform, not Gaussian: excess kurtosis of a uniform is -1.2
    k = ((W - W.mean()) ** 4).mean() / W.var() ** 2 - 3
    assert k == pytest.approx(-1.2, abs=0.05)
    for p in (net.W_out, net.w_v):
        assert np.abs(p.detach().numpy()).max() <= 0.1
        assert p.detach().numpy().std() == pytest.approx(0.1 / np.sqrt(3), rel=0.15)
    for p in (net.b, net.b_out, net.b_v):
        assert torch.all(p == 0)


def test_bulk_spectral_radius_is_delta_sqrt_n_over_3():
    cfg = NetworkConfig(hidden=250, delta=0.1)
    radii = []
    for s in range(5):
        W = RNN(cfg, generator=torch.Generator().manual_seed(s)).W_rec.detach().numpy()
        radii.append(np.abs(np.linalg.eigvals(W)).max())
    assert cfg.expected_spectral_radius == pytest.approx(0.913, abs=0.001)
    assert np.mean(radii) == pytest.approx(cfg.expected_spectral_radius, rel=0.06)


def test_forward_is_the_relu_recursion_and_resets():
    torch.manual_seed(0)
    net = RNN(NetworkConfig(hidden=20, delta=0.3), generator=torch.Generator().manual_seed(1))
    x = torch.randn(6, 3, 7)
    hs, logits, values = net(x)
    h = torch.zeros(3, 20)
    for t in range(6):
        h = torch.relu(h @ net.W_rec.T + x[t] @ net.W_in.T + net.b)
        torch.testing.assert_close(hs[t], h)
    torch.testing.assert_close(logits, hs @ net.W_out.T + net.b_out)
    torch.testing.assert_close(values, (hs @ net.w_v.T).squeeze(-1) + net.b_v)
    # a reset at t=3 makes the rest equal to a fresh run from t=3
    reset = torch.zeros(6, 3, dtype=torch.bool)
    reset[3] = True
    hs_r, _, _ = net(x, h0=torch.ones(3, 20), reset=reset)
    hs_fresh, _, _ = net(x[3:])
    torch.testing.assert_close(hs_r[3:], hs_fresh)


def test_forward_gradients_equal_the_step_by_step_recursion():
    """The forward's gradients (it unbinds the drive over time) are, value for value, those of
    the plain loop that indexes the drive one step at a time, resets included."""
    net = RNN(NetworkConfig(hidden=16, delta=0.3), generator=torch.Generator().manual_seed(2))
    g = torch.Generator().manual_seed(3)
    x, h0 = torch.randn(9, 4, 7, generator=g), torch.rand(4, 16, generator=g)
    reset = torch.rand(9, 4, generator=g) < 0.3

    def grads(run):
        net.zero_grad()
        _, logits, values = run()
        (logits.square().sum() + values.sum()).backward()
        return [p.grad.clone() for p in net.parameters()]

    def loop():
        h, u, hs = h0, net.drive(x), []
        for t in range(9):
            h = net.step(h, u[t], carry=~reset[t])
            hs.append(h)
        H = torch.stack(hs)
        return H, net.policy(H), net.value(H)

    for a, b in zip(grads(lambda: net(x, h0=h0, reset=reset)), grads(loop), strict=True):
        assert torch.equal(a, b)


def test_leak():
    net = RNN(
        NetworkConfig(hidden=5, delta=0.5, alpha=0.2), generator=torch.Generator().manual_seed(2)
    )
    x = torch.rand(3, 1, 7)
    hs, _, _ = net(x)
    h = torch.zeros(1, 5)
    for t in range(3):
        h = 0.8 * h + 0.2 * torch.relu(h @ net.W_rec.T + x[t] @ net.W_in.T + net.b)
    torch.testing.assert_close(hs[-1], h)


def test_weights_npz_runs_without_the_package(tmp_path):
    net = RNN(NetworkConfig(hidden=30, delta=0.2), generator=torch.Generator().manual_seed(3))
    export_weights(net, tmp_path / "weights.npz")
    w = load_weights_npz(tmp_path / "weights.npz")
    assert w["W_rec"].shape == (30, 30) and w["W_in"].shape == (30, 7) and w["b"].shape == (30,)
    assert w["W_out"].shape == (3, 30) and w["b_out"].shape == (3,) and float(w["alpha"]) == 1.0
    tr = sample_trials(TaskConfig(), 4, torch.Generator().manual_seed(0))
    hs_np, logits_np = simulate_numpy(w, tr.inputs.numpy())
    hs, logits, _ = net(tr.inputs)
    np.testing.assert_allclose(hs_np, hs.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(logits_np, logits.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs", [{"delta": 0}, {"delta": -0.1}, {"hidden": 0}, {"alpha": 0}, {"alpha": 1.5}]
)
def test_invalid_network_config(kwargs):
    with pytest.raises(ValueError):
        NetworkConfig(**kwargs)
