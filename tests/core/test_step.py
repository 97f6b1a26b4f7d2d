"""The one ReLU-RNN step (torch, with its hooks) and the one float64 NumPy map."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lib.analysis.dynamics import relu_jvp, relu_map
from lib.core.network import RNN, NetworkConfig, ReLUMap, rnn_step


def hand_built(n: int = 4, alpha: float = 1.0) -> RNN:
    """A float64 network with hand-set weights (W_rec has mixed signs; b shifts unit 3 off)."""
    net = RNN(NetworkConfig(hidden=n, alpha=alpha)).double()
    W = np.array(
        [[0.5, -0.2, 0.1, 0.0], [0.3, 0.4, -0.5, 0.2], [-0.1, 0.2, 0.6, 0.1], [0.2, 0.0, 0.1, -0.3]]
    )[:n, :n]
    with torch.no_grad():
        net.W_rec.copy_(torch.as_tensor(W))
        net.W_in.copy_(torch.linspace(-0.5, 0.7, n * 7, dtype=torch.float64).reshape(n, 7))
        net.b.copy_(torch.tensor([0.1, 0.0, -0.05, -2.0][:n], dtype=torch.float64))
    return net


def test_plain_step_is_relu_of_w_h_plus_u():
    W = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64)
    h = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    u = torch.tensor([[0.5, -1.0]], dtype=torch.float64)
    # W h + u = (0.5 - 2 + 0.5, 2 + 0.5 - 1) = (-1, 1.5)
    assert torch.equal(rnn_step(h, u, W), torch.tensor([[0.0, 1.5]], dtype=torch.float64))
    # leak 0.5: 0.5 h + 0.5 ReLU(.) = (0.5, 1.75)
    assert torch.equal(
        rnn_step(h, u, W, alpha=0.5), torch.tensor([[0.5, 1.75]], dtype=torch.float64)
    )


def test_reset_hook_zeroes_the_state_exactly_at_trial_starts():
    """carry = 0 on a row makes the step start from h = 0 there; forward's reset runs each
    trial from zero, bit for bit as if the trials were run separately."""
    net = hand_built()
    g = torch.Generator().manual_seed(0)
    h = torch.rand(3, 4, generator=g, dtype=torch.float64) * 5
    u = torch.rand(3, 4, generator=g, dtype=torch.float64)
    out = rnn_step(h, u, net.W_rec, carry=torch.tensor([True, False, True]))
    assert torch.equal(
        out[1], rnn_step(torch.zeros(1, 4, dtype=torch.float64), u[1:2], net.W_rec)[0]
    )
    assert torch.equal(out[[0, 2]], rnn_step(h[[0, 2]], u[[0, 2]], net.W_rec))
    # two trials of 3 and 4 steps back to back in one row == each run from zero
    x = torch.rand(7, 1, 7, generator=g, dtype=torch.float64)
    reset = torch.zeros(7, 1, dtype=torch.bool)
    reset[3] = True
    hs, _, _ = net(x, h0=torch.full((1, 4), 9.0, dtype=torch.float64), reset=reset)
    first, _, _ = net(x[:3])
    second, _, _ = net(x[3:])
    assert not torch.equal(hs[:3], first)  # h0 = 9 is carried into the first trial
    assert torch.equal(hs[3:], second)


def test_rollout_step_equals_forward_with_the_same_resets():
    """The PPO rollout's step-by-step recurrence (drive + step with carry) and the update's
    net(x, h0, reset) are the same computation (CleanRL's shared recurrence)."""
    net = RNN(NetworkConfig(hidden=16), generator=torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(2)
    x = torch.rand(6, 5, 7, generator=g)
    reset = torch.rand(6, 5, generator=g) < 0.3
    h0 = torch.rand(5, 16, generator=g)
    with torch.no_grad():
        hs, _, _ = net(x, h0=h0, reset=reset)
        h, steps = h0, []
        for t in range(6):
            h = net.step(h, net.drive(x[t]), carry=~reset[t])
            steps.append(h)
    assert torch.equal(torch.stack(steps), hs)


def test_unit_mask_silences_units():
    net = hand_built()
    h = torch.ones(2, 4, dtype=torch.float64)
    u = torch.full((2, 4), 0.5, dtype=torch.float64)
    mask = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64)
    out = rnn_step(h, u, net.W_rec, unit_mask=mask)
    full = rnn_step(h, u, net.W_rec)
    assert torch.all(out[:, [1, 3]] == 0) and torch.equal(out[:, [0, 2]], full[:, [0, 2]])
    # a silenced unit stays silent and sends nothing over many steps
    hm = h * mask
    for _ in range(5):
        hm = rnn_step(hm, u, net.W_rec, unit_mask=mask)
    assert torch.all(hm[:, [1, 3]] == 0)


def test_perturbed_weights_are_used_shared_and_batched():
    net = hand_built()
    g = torch.Generator().manual_seed(3)
    h = torch.rand(6, 4, generator=g, dtype=torch.float64)
    u = torch.rand(6, 4, generator=g, dtype=torch.float64)
    W2 = 2.0 * net.W_rec.detach()
    assert torch.equal(net.step(h, u, W_rec=W2), torch.relu(h @ W2.T + u))
    assert not torch.equal(net.step(h, u, W_rec=W2), net.step(h, u))
    # G = 3 matrices: rows 2g, 2g + 1 run with W[g]
    Ws = torch.stack([net.W_rec.detach(), W2, -net.W_rec.detach()])
    out = rnn_step(h, u, Ws)
    for gi in range(3):
        rows = slice(2 * gi, 2 * gi + 2)
        torch.testing.assert_close(
            out[rows], rnn_step(h[rows], u[rows], Ws[gi]), rtol=0, atol=1e-15
        )


def test_noise_hooks_enter_inside_and_after_the_relu():
    W = torch.eye(2, dtype=torch.float64)
    h = torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    u = torch.zeros(1, 2, dtype=torch.float64)
    xi = torch.tensor([[-3.0, 0.5]], dtype=torch.float64)
    assert torch.equal(
        rnn_step(h, u, W, input_noise=xi), torch.tensor([[0.0, 1.5]], dtype=torch.float64)
    )
    eta = torch.tensor([[-3.0, 0.5]], dtype=torch.float64)
    assert torch.equal(
        rnn_step(h, u, W, state_noise=eta), torch.tensor([[-2.0, 1.5]], dtype=torch.float64)
    )


@pytest.mark.parametrize("alpha", [1.0, 0.3])
def test_torch_step_equals_numpy_map_in_float64(alpha):
    """On a hand-built float64 network the torch step, ReLUMap.step and simulate-by-hand agree
    to round-off; ReLUMap's Jacobian equals torch autograd's, and its tangent map J Q."""
    net = hand_built(alpha=alpha)
    W = net.W_rec.detach().numpy()
    x = np.array([1.0, 0.6, 0.4, 0.25, 0.75, 0.0, 1.0])
    c = W_in_x_b = x @ net.W_in.detach().numpy().T + net.b.detach().numpy()
    F = ReLUMap(W, c, alpha)
    rng = np.random.default_rng(0)
    H = rng.uniform(0, 2, size=(5, 4))
    ht = torch.as_tensor(H)
    ut = net.drive(torch.as_tensor(x)[None].expand(5, 7))
    np.testing.assert_allclose(ut.detach().numpy(), np.broadcast_to(W_in_x_b, (5, 4)), atol=1e-15)
    torch_next = net.step(ht, ut).detach().numpy()
    np.testing.assert_allclose(F.step(H), torch_next, rtol=0, atol=1e-14)
    # exact known value of the map for the first row
    expected = (1 - alpha) * H[0] + alpha * np.maximum(W @ H[0] + c, 0.0)
    np.testing.assert_allclose(F.step(H[0]), expected, rtol=0, atol=1e-15)
    J = F.jacobian(H)
    for i in range(5):
        Jt = torch.autograd.functional.jacobian(
            lambda h: net.step(h[None], ut[:1])[0], torch.as_tensor(H[i])
        )
        np.testing.assert_allclose(J[i], Jt.numpy(), rtol=0, atol=1e-14)
    Q = rng.normal(size=(5, 2, 4))  # rows: 2 tangent vectors per state
    nxt, Z = F.advance(H, Q)
    np.testing.assert_array_equal(nxt, F.step(H))
    np.testing.assert_allclose(Z, np.einsum("bij,bkj->bki", J, Q), atol=1e-14)
    np.testing.assert_allclose(
        F.jvp(H, Q.transpose(0, 2, 1)), (J @ Q.transpose(0, 2, 1)), atol=1e-14
    )


def test_dynamics_relu_map_and_jvp_are_views_of_the_one_map():
    rng = np.random.default_rng(1)
    W, c = rng.normal(size=(6, 6)) * 0.4, rng.normal(size=6)
    H, Q = rng.uniform(0, 1, (3, 6)), rng.normal(size=(3, 6, 2))
    step, jac = relu_map(W, c)
    F = ReLUMap(W, c)
    np.testing.assert_array_equal(step(H), F.step(H))
    np.testing.assert_array_equal(jac(H), F.jacobian(H))
    np.testing.assert_array_equal(relu_jvp(W, c)(H, Q), F.jvp(H, Q))


def test_relu_map_rows_of_per_row_drives_follow_the_index():
    """Per-row drives C (M, n): step(h, idx) uses C[idx] (the orbit classifier's retiring rows)."""
    W = np.eye(2) * 0.5
    C = np.array([[1.0, -1.0], [2.0, 2.0], [-1.0, 3.0]])
    F = ReLUMap(W, C)
    h = np.ones((2, 2))
    idx = np.array([2, 0])
    np.testing.assert_array_equal(F.step(h, idx), [[0.0, 3.5], [1.5, 0.0]])
    np.testing.assert_array_equal(F.step(np.ones((3, 2))), np.maximum(0.5 + C, 0))
