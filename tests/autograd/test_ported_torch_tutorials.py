"""d2l.ai's and the PyTorch tutorials' from-scratch programs ported by their imports only
(``import shenjing as torch``, ``import shenjing.nn.functional as F``), each run on shenjing and
on real torch with the same random numbers and compared: d2l's RNN from scratch (one-hot inputs,
the step in tensors, gradient clipping by the global norm, perplexity, ``predict_ch8``), d2l's
LeNet with its parameters as tensors (``F.conv2d``/``F.avg_pool2d``, NCHW, torch's weights), and
"Learning PyTorch with Examples" (the ``LegendrePolynomial3`` autograd Function, the two-layer
network by hand, with autograd and with a custom ReLU Function).
"""

# ruff: noqa: B007, B023, E501, E701, E702, E731, E741, F841 - the programs keep their original
# style (long lines, one-line classes, unused names) as the lectures wrote it

from __future__ import annotations

import math
import random

import pytest
from test_ported_torch_programs import assert_same
from test_ported_torch_programs import both as both_with

import shenjing


def both(program, *args):
    """``program`` on shenjing with ``shenjing.nn.functional`` and on torch with
    ``torch.nn.functional`` (see ``test_ported_torch_programs.both``)."""
    return both_with(program, *args, functional=shenjing.nn.functional)


TEXT = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
        "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n")


# -- (4) d2l RNN from scratch ---------------------------------------------------------------------
def d2l_rnn(torch, F):
    text = TEXT.lower() * 3
    idx_to_token = sorted(set(text))
    token_to_idx = {t: i for i, t in enumerate(idx_to_token)}
    corpus = [token_to_idx[c] for c in text]
    class Vocab:
        def __init__(self): self.idx_to_token = idx_to_token
        def __len__(self): return len(idx_to_token)
        def __getitem__(self, t): return token_to_idx[t]
    vocab = Vocab()
    out = {"one_hot": F.one_hot(torch.tensor([0, 2]), len(vocab))}
    X = torch.arange(10).reshape((2, 5))
    out["oh_shape"] = list(F.one_hot(X.T, 28).shape)
    def get_params(vocab_size, num_hiddens, device):
        num_inputs = num_outputs = vocab_size
        def normal(shape):
            return torch.randn(size=shape, device=device) * 0.01
        W_xh = normal((num_inputs, num_hiddens))
        W_hh = normal((num_hiddens, num_hiddens))
        b_h = torch.zeros(num_hiddens, device=device)
        W_hq = normal((num_hiddens, num_outputs))
        b_q = torch.zeros(num_outputs, device=device)
        params = [W_xh, W_hh, b_h, W_hq, b_q]
        for param in params:
            param.requires_grad_(True)
        return params
    def init_rnn_state(batch_size, num_hiddens, device):
        return (torch.zeros((batch_size, num_hiddens), device=device), )
    def rnn(inputs, state, params):
        W_xh, W_hh, b_h, W_hq, b_q = params
        H, = state
        outputs = []
        for X in inputs:
            H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
            Y = torch.mm(H, W_hq) + b_q
            outputs.append(Y)
        return torch.cat(outputs, dim=0), (H,)
    class RNNModelScratch:
        def __init__(self, vocab_size, num_hiddens, device, get_params, init_state, forward_fn):
            self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
            self.params = get_params(vocab_size, num_hiddens, device)
            self.init_state, self.forward_fn = init_state, forward_fn
        def __call__(self, X, state):
            X = F.one_hot(X.T, self.vocab_size).type(torch.float32)
            return self.forward_fn(X, state, self.params)
        def begin_state(self, batch_size, device):
            return self.init_state(batch_size, self.num_hiddens, device)
    device = torch.device('cpu')
    num_hiddens = 64
    net = RNNModelScratch(len(vocab), num_hiddens, device, get_params, init_rnn_state, rnn)
    state = net.begin_state(X.shape[0], device)
    Y, new_state = net(X.to(device), state)
    out["Y_shape"] = str([list(Y.shape), len(new_state), list(new_state[0].shape)])
    def predict_ch8(prefix, num_preds, net, vocab, device):
        state = net.begin_state(batch_size=1, device=device)
        outputs = [vocab[prefix[0]]]
        get_input = lambda: torch.tensor([outputs[-1]], device=device).reshape((1, 1))
        for y in prefix[1:]:
            _, state = net(get_input(), state)
            outputs.append(vocab[y])
        for _ in range(num_preds):
            y, state = net(get_input(), state)
            outputs.append(int(y.argmax(dim=1).reshape(1)))
        return ''.join([vocab.idx_to_token[i] for i in outputs])
    out["pred0"] = predict_ch8('first ', 10, net, vocab, device)
    def grad_clipping(net, theta):
        params = net.params
        norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in params))
        if norm > theta:
            for param in params:
                param.grad[:] *= theta / norm
    def sgd(params, lr, batch_size):
        with torch.no_grad():
            for param in params:
                param -= lr * param.grad / batch_size
                param.grad.zero_()
    def seq_data_iter_sequential(corpus, batch_size, num_steps):
        offset = random.randint(0, num_steps)
        num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
        Xs = torch.tensor(corpus[offset: offset + num_tokens])
        Ys = torch.tensor(corpus[offset + 1: offset + 1 + num_tokens])
        Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
        num_batches = Xs.shape[1] // num_steps
        for i in range(0, num_steps * num_batches, num_steps):
            X = Xs[:, i: i + num_steps]
            Y = Ys[:, i: i + num_steps]
            yield X, Y
    class Accumulator:
        def __init__(self, n): self.data = [0.0] * n
        def add(self, *args): self.data = [a + float(b) for a, b in zip(self.data, args)]
        def __getitem__(self, idx): return self.data[idx]
    loss = lambda y_hat, y: F.cross_entropy(y_hat, y, reduction='none')
    def train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter):
        state = None
        metric = Accumulator(2)
        for X, Y in train_iter:
            if state is None or use_random_iter:
                state = net.begin_state(batch_size=X.shape[0], device=device)
            else:
                for s in state:
                    s.detach_()
            y = Y.T.reshape(-1)
            X, y = X.to(device), y.to(device)
            y_hat, state = net(X, state)
            l = loss(y_hat, y.long()).mean()
            l.backward()
            grad_clipping(net, 1)
            updater(batch_size=1)
            metric.add(l * y.numel(), y.numel())
        return math.exp(metric[0] / metric[1])
    lr = 1
    updater = lambda batch_size: sgd(net.params, lr, batch_size)
    ppls = []
    for epoch in range(2):
        ppls.append(train_epoch_ch8(net, seq_data_iter_sequential(corpus, 4, 10), loss, updater, device, False))
    out["ppl"] = ppls
    out["pred"] = predict_ch8('first ', 10, net, vocab, device)
    out.update({f"p{i}": p for i, p in enumerate(net.params)})
    return out

# -- (5) d2l LeNet --------------------------------------------------------------------------------
def d2l_lenet(torch, F):
    torch.manual_seed(0)
    def xavier(*shape):
        fan_in = shape[1] * (shape[2] * shape[3] if len(shape) == 4 else 1)
        fan_out = shape[0] * (shape[2] * shape[3] if len(shape) == 4 else 1)
        a = math.sqrt(6 / (fan_in + fan_out))
        return ((torch.rand(*shape) * 2 - 1) * a).requires_grad_()
    W1, b1 = xavier(6, 1, 5, 5), torch.zeros(6, requires_grad=True)
    W2, b2 = xavier(16, 6, 5, 5), torch.zeros(16, requires_grad=True)
    W3, b3 = xavier(120, 400), torch.zeros(120, requires_grad=True)
    W4, b4 = xavier(84, 120), torch.zeros(84, requires_grad=True)
    W5, b5 = xavier(10, 84), torch.zeros(10, requires_grad=True)
    params = [W1, b1, W2, b2, W3, b3, W4, b4, W5, b5]
    shapes = []
    def net(X):
        X = torch.sigmoid(F.conv2d(X, W1, b1, padding=2)); shapes.append(tuple(X.shape))
        X = F.avg_pool2d(X, kernel_size=2, stride=2); shapes.append(tuple(X.shape))
        X = torch.sigmoid(F.conv2d(X, W2, b2)); shapes.append(tuple(X.shape))
        X = F.avg_pool2d(X, kernel_size=2, stride=2); shapes.append(tuple(X.shape))
        X = torch.flatten(X, 1); shapes.append(tuple(X.shape))
        X = torch.sigmoid(F.linear(X, W3, b3))
        X = torch.sigmoid(F.linear(X, W4, b4))
        return F.linear(X, W5, b5)
    X = torch.rand(size=(1, 1, 28, 28), dtype=torch.float32)
    net(X)
    out = {"shapes": str(shapes)}
    images = torch.rand(16, 1, 28, 28)
    labels = torch.randint(0, 10, (16,))
    def accuracy(y_hat, y):
        if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
            y_hat = y_hat.argmax(axis=1)
        cmp = y_hat.type(y.dtype) == y
        return float(cmp.type(y.dtype).sum())
    losses = []
    for epoch in range(3):
        y_hat = net(images)
        l = F.cross_entropy(y_hat, labels)
        for p in params:
            p.grad = None
        l.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.9 * p.grad
        losses.append(l.item())
    out.update(losses=losses, acc=accuracy(net(images), labels), gW1=W1.grad, gW2=W2.grad, W3=W3)
    # max pooling and stride variants
    x = torch.randn(2, 3, 7, 7, requires_grad=True)
    y = F.max_pool2d(F.conv2d(x, torch.randn(4, 3, 3, 3), stride=2, padding=1), 2)
    y.sum().backward()
    out.update(mp=y, gx=x.grad)
    return out

# -- (6) Learning PyTorch with Examples -----------------------------------------------------------
def lpwe(torch, F):
    out = {}
    class LegendrePolynomial3(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)
        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)
    dtype = torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)
    learning_rate = 5e-6
    losses = []
    for t in range(300):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    out["legendre"] = losses
    out["abcd"] = [a.item(), b.item(), c.item(), d.item()]
    # the older two-layer network: tensors, autograd, custom ReLU
    N, D_in, H, D_out = 16, 100, 20, 5
    x = torch.randn(N, D_in, device=device, dtype=dtype)
    y = torch.randn(N, D_out, device=device, dtype=dtype)
    w1 = torch.randn(D_in, H, device=device, dtype=dtype)
    w2 = torch.randn(H, D_out, device=device, dtype=dtype)
    learning_rate = 1e-6
    for t in range(30):
        h = x.mm(w1)
        h_relu = h.clamp(min=0)
        y_pred = h_relu.mm(w2)
        loss = (y_pred - y).pow(2).sum().item()
        grad_y_pred = 2.0 * (y_pred - y)
        grad_w2 = h_relu.t().mm(grad_y_pred)
        grad_h_relu = grad_y_pred.mm(w2.t())
        grad_h = grad_h_relu.clone()
        grad_h[h < 0] = 0
        grad_w1 = x.t().mm(grad_h)
        w1 -= learning_rate * grad_w1
        w2 -= learning_rate * grad_w2
    out["manual"] = loss
    class MyReLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)
        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input
    w1 = torch.randn(D_in, H, device=device, dtype=dtype, requires_grad=True)
    w2 = torch.randn(H, D_out, device=device, dtype=dtype, requires_grad=True)
    for t in range(30):
        relu = MyReLU.apply
        y_pred = relu(x.mm(w1)).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    out["myrelu"] = loss.item()
    out["w1"] = w1
    return out


@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")  # torch's, at
def test_d2l_rnn_from_scratch():  # d2l's float(l * y.numel()) in its Accumulator
    ours, theirs = both(d2l_rnn)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5)
    assert ours["Y_shape"] == "[[10, 28], 1, [2, 64]]" and ours["ppl"][-1] < ours["ppl"][0]


def test_d2l_lenet():
    ours, theirs = both(d2l_lenet)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5)
    assert ours["shapes"].startswith("[(1, 6, 28, 28), (1, 6, 14, 14), (1, 16, 10, 10)")


def test_learning_pytorch_with_examples():
    ours, theirs = both(lpwe)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5)
