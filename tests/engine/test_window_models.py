"""The window models: the n-gram's counts on a hand-made sequence, the time-delay network's gradients
against finite differences and against PyTorch, and that both really are blind beyond their window."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine.gradcheck import compare_gradients
from rnnviz.engine.optim import make_optimizer
from rnnviz.engine.training import TrainConfig, Trainer
from rnnviz.engine.window_models import (NgramModel, TimeDelayNetwork, WindowModelError, context_ids,
                                         ngram_table_entries, stack_window, time_delay_parameter_count,
                                         unstack_window)
from tests.tolerances import assert_same_maths


def one_hot(ids, size):
    return np.eye(size)[np.asarray(ids)]


# ----------------------------------------------------------------------------- n-gram


def test_bigram_counts_of_a_hand_made_sequence():
    # symbols 0 1 0 1 2 over V = 3; targets are the next symbol (a language model), classes C = 3
    inputs = one_hot([[0], [1], [0], [1], [2]], 3)  # (T=5, B=1, 3)
    targets = np.array([[1], [0], [1], [2], [0]])  # (5, 1)
    ngram = NgramModel(window=2, vocab=3, classes=3)
    ngram.fit(inputs, targets)
    start = 3  # the start marker
    # context (x_t, x_(t-1)) -> id x_t + 4 x_(t-1)
    expected = {(0 + 4 * start, 1): 1, (1 + 4 * 0, 0): 1, (0 + 4 * 1, 1): 1, (1 + 4 * 0, 2): 1, (2 + 4 * 1, 0): 1}
    counted = {(int(c), int(k)): int(n) for (c, k), n in np.ndenumerate(ngram.counts) if n}
    assert counted == expected
    assert ngram.table_entries == 4**2 * 3 == ngram_table_entries(2, 3, 3)
    assert ngram.tokens_seen == 5
    # "1 after 0" was followed once by 0 and once by 2: add-one smoothing gives (1+1)/(2+3) for each
    probabilities = ngram.predict(inputs)  # (5, 1, 3)
    np.testing.assert_allclose(probabilities[1, 0], [2 / 5, 1 / 5, 2 / 5])
    np.testing.assert_allclose(probabilities[3, 0], [2 / 5, 1 / 5, 2 / 5])
    # a context never seen predicts every class alike
    unseen = NgramModel(window=2, vocab=3, classes=3).predict(inputs)
    np.testing.assert_allclose(unseen, 1 / 3)
    # its loss is the cross-entropy of those probabilities: -mean log P(y_t)
    picked = [probabilities[t, 0, targets[t, 0]] for t in range(5)]
    assert ngram.loss(inputs, targets) == pytest.approx(-np.mean(np.log(picked)), rel=1e-12)


def test_masked_steps_are_not_counted_and_padding_reads_as_the_start_marker():
    inputs = one_hot([[0, 1], [1, 1]], 2)  # (2, 2, 2)
    inputs[1, 1] = 0  # padding of sample 1
    ngram = NgramModel(window=1, vocab=2, classes=2)
    ngram.fit(inputs, np.array([[1, 0], [0, 1]]), mask=np.array([[1.0, 1.0], [1.0, 0.0]]))
    assert ngram.tokens_seen == 3 and ngram.counts[2].sum() == 0
    assert list(context_ids(np.array([[0], [1]]), 1, 2)[:, 0]) == [0, 1]


def test_ngram_refuses_inputs_that_are_not_its_tokens():
    with pytest.raises(WindowModelError, match="one-hot tokens of 3"):
        NgramModel(window=1, vocab=3, classes=2).predict(np.zeros((4, 1, 5)))
    with pytest.raises(WindowModelError, match="window"):
        NgramModel(window=0, vocab=3, classes=2)


# ----------------------------------------------------------------------------- windows


def test_stack_window_holds_the_last_k_inputs_and_zeros_before_the_start():
    inputs = np.arange(1, 5, dtype=np.float64).reshape(4, 1, 1)  # x_t = t + 1
    stacked = stack_window(inputs, 3)[:, 0]  # (4, 3): [x_t, x_(t-1), x_(t-2)]
    np.testing.assert_array_equal(stacked, [[1, 0, 0], [2, 1, 0], [3, 2, 1], [4, 3, 2]])


def test_unstack_window_is_the_adjoint_of_stack_window():
    rng = np.random.default_rng(0)
    x, d = rng.standard_normal((6, 2, 3)), rng.standard_normal((6, 2, 12))
    # <stack(x), d> = <x, unstack(d)> for every x and d: the gradient of the stacking
    assert np.sum(stack_window(x, 4) * d) == pytest.approx(np.sum(x * unstack_window(d, 4, 3)), rel=1e-12)


# ----------------------------------------------------------------------------- time-delay network


def _problem(window=3, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 4, size=(7, 3))
    inputs = one_hot(ids, 4)  # (T=7, B=3, 4)
    targets = rng.integers(0, 5, size=(7, 3))
    mask = np.ones((7, 3))
    mask[5:, 2] = 0  # padding at the end of one sample
    net = TimeDelayNetwork(window, 4, 6, 5, dtype=np.float64, seed=seed)
    return net, inputs, targets, mask


@pytest.mark.parametrize("window", [1, 3, 9])  # 9 > T: the window reaches before every step's start
def test_gradients_match_finite_differences(window):
    net, inputs, targets, mask = _problem(window)
    step = net.loss_and_grads(inputs, targets, mask)
    result = compare_gradients(net.parameters(), lambda: net.loss(inputs, targets, mask), step.grads)
    assert result.passed, result


def test_input_gradient_matches_finite_differences():
    net, inputs, targets, mask = _problem(2)
    step = net.loss_and_grads(inputs, targets, mask)
    live = inputs.copy()
    result = compare_gradients({"inputs": live}, lambda: net.loss(live, targets, mask), {"inputs": step.d_inputs})
    assert result.passed, result


def test_matches_pytorch_forward_and_gradients():
    torch = pytest.importorskip("torch")
    net, inputs, targets, mask = _problem(3, seed=4)
    step = net.loss_and_grads(inputs, targets, mask)

    class Reference(torch.nn.Module):  # the class docstring's equations, in PyTorch
        def __init__(self):
            super().__init__()
            self.hidden = torch.nn.Linear(12, 6).double()
            self.head = torch.nn.Linear(6, 5).double()

    reference = Reference()
    reference.load_state_dict({k: torch.tensor(v) for k, v in net.parameters().items()})
    x = torch.tensor(inputs)
    windows = [torch.cat([x[t - j] if t - j >= 0 else torch.zeros_like(x[0]) for j in range(3)], dim=-1)
               for t in range(7)]
    logits = reference.head(torch.tanh(reference.hidden(torch.stack(windows))))  # (7, 3, 5)
    real = torch.tensor(mask.reshape(-1) > 0)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 5)[real], torch.tensor(targets).reshape(-1)[real])
    loss.backward()
    # forward: a dot product over k I = 12 inputs, tanh, one over H = 6, softmax: < 64 roundings per value;
    # backward adds the same again and sums over T B = 21 positions: far below 2^12
    assert_same_maths(step.forward.logits, logits.detach().numpy())
    assert step.loss == pytest.approx(loss.item(), rel=1e-12, abs=1e-14)  # float64: a few ulps of O(1)
    for name, param in reference.named_parameters():
        assert_same_maths(step.grads[name], param.grad.numpy(), err_msg=name)


def test_parameter_count_grows_linearly_with_the_window():
    counts = [TimeDelayNetwork(k, 4, 8, 5).parameter_count() for k in (1, 2, 3)]
    assert counts[1] - counts[0] == counts[2] - counts[1] == 8 * 4  # H I more weights per step of window
    assert counts[0] == time_delay_parameter_count(1, 4, 8, 5)


def test_an_input_outside_the_window_changes_nothing():
    net, inputs, targets, mask = _problem(2)
    changed = inputs.copy()
    changed[0] = one_hot(np.array([3, 3, 3]) - np.argmax(inputs[0], axis=-1), 4)  # other symbols at t = 0
    before, after = net.forward(inputs).logits, net.forward(changed).logits
    np.testing.assert_array_equal(before[2:], after[2:])  # t >= k: x_0 is out of the window
    assert not np.allclose(before[:2], after[:2])


def test_trains_with_the_rnn_trainer_and_optimizer():
    # the target is the input one step back: inside a window of 2, so the loss must fall
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 4, size=(12, 32))
    inputs, targets = one_hot(ids, 4), np.vstack([np.full((1, 32), 4), ids[:-1]])
    net = TimeDelayNetwork(2, 4, 16, 5, seed=0)
    trainer = Trainer(net, TrainConfig(optimizer="adam", lr=0.05))
    first = trainer.step(inputs, targets).loss
    for _ in range(60):
        report = trainer.step(inputs, targets)
    assert report.finite and report.loss < first / 4
    assert type(trainer.optimizer) is type(make_optimizer("adam", net.parameters()))
