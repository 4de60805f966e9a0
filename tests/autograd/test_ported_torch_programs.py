"""From-scratch PyTorch programs ported by their imports only (``import torch`` ->
``import shenjing as torch``, ``import torch.nn.functional as F`` -> ``from shenjing import F``),
on small embedded data: Karpathy's makemore parts 1-3 (bigram counts and sampling, the neural
bigram, the MLP, manual batch norm) and micrograd's torch check, d2l.ai's from-scratch chapters
(linear and softmax regression, MLP, dropout, weight decay), and the PyTorch tutorials' autograd
introduction and polynomial fit.

Each program is a function of the two modules, its body the original code. It runs once on
shenjing and once on real torch with the same random numbers: ``SameDraws`` is torch with its
random functions (``Generator``, ``randn``, ``rand``, ``randint``, ``normal``, ``multinomial``,
``manual_seed``) drawing shenjing's numbers, so the results must agree (torch's own streams
differ: a seed reproduces a shenjing run, not torch's draws).

Ported as they stand, except where noted: torch's ``.data`` is a tensor, shenjing's the array
(``W.data += -50 * W.grad`` works, ``y.data.norm()`` does not: ``y.detach().norm()``); d2l's
``nn.Parameter`` does not exist (the MLP is the Dive-into-DL-PyTorch version's
``param.requires_grad_(requires_grad=True)``).
"""

# ruff: noqa: B007 - the programs' loops keep their original (unused) variable names

from __future__ import annotations

import math
import random

import numpy as np
import pytest

import shenjing
from oracle import require_torch

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia", "harper",
         "evelyn", "abigail", "emily", "elizabeth", "mila", "ella", "avery", "sofia", "camila",
         "aria", "scarlett", "quinn", "zoe", "xavier", "jude", "kylie", "wendy", "yara", "gwen",
         "faye", "nova", "ruth", "blake"]  # every letter, as makemore's names.txt


class SameDraws:
    """Real torch whose random functions draw shenjing's numbers (as torch tensors)."""

    def __init__(self, torch):
        self._torch = torch

    def __getattr__(self, name):
        return getattr(self._torch, name)

    def _out(self, t, dtype=None, requires_grad=False, device=None):
        out = self._torch.tensor(t.numpy())
        out = out if dtype is None else out.to(dtype)
        return out.requires_grad_(requires_grad)

    def _np_dtype(self, dtype):
        return None if dtype is None else self._torch.empty(0, dtype=dtype).numpy().dtype

    def Generator(self, device="cpu"):  # noqa: N802 - torch's name
        return shenjing.Generator(device)

    def manual_seed(self, seed):
        shenjing.manual_seed(seed)

    def randn(self, *size, generator=None, dtype=None, requires_grad=False, device=None,
              **kwargs):
        return self._out(shenjing.randn(*size, generator=generator, **kwargs), dtype,
                         requires_grad)

    def rand(self, *size, generator=None, dtype=None, requires_grad=False, device=None,
             **kwargs):
        return self._out(shenjing.rand(*size, generator=generator, **kwargs), dtype,
                         requires_grad)

    def randint(self, low, high=None, size=None, generator=None, **kwargs):
        return self._out(shenjing.randint(low, high, size, generator=generator))

    def normal(self, mean, std, size=None, requires_grad=False, **kwargs):
        return self._out(shenjing.normal(mean, std, size), None, requires_grad)

    def multinomial(self, input, num_samples, replacement=False, generator=None):  # noqa: A002
        return self._out(shenjing.multinomial(input.detach().numpy(), num_samples, replacement,
                                              generator=generator))


def both(program, *args, functional=None):
    """``program`` on shenjing (with ``functional`` as its F: ``shenjing.F`` by default, or
    ``shenjing.nn.functional``) and on torch with shenjing's random numbers, its results as
    NumPy values (random, np.random and shenjing's stream seeded alike for each run)."""
    th = require_torch()
    results = []
    for torch, F in ((shenjing, functional or shenjing.F), (SameDraws(th), th.nn.functional)):
        random.seed(42)
        np.random.seed(0)
        shenjing.manual_seed(0)
        results.append({k: _plain(v) for k, v in program(torch, F, *args).items()})
    return results


def _plain(value):
    if isinstance(value, (list, tuple)) and value and not isinstance(value[0], str):
        return np.array([_plain(v) for v in value])
    if hasattr(value, "detach"):
        value = value.detach()
    return value.numpy() if hasattr(value, "numpy") else value


def assert_same(ours, theirs, rtol=1e-5, atol=1e-6):
    assert ours.keys() == theirs.keys()
    for key in ours:
        if isinstance(ours[key], (str, list, bool)):
            assert ours[key] == theirs[key], key
        else:
            np.testing.assert_allclose(ours[key], theirs[key], rtol=rtol, atol=atol,
                                       err_msg=key)


# -- makemore part 1: bigram counts, sampling, the neural bigram ---------------------------------
def makemore_bigram(torch, F, words=WORDS):
    N = torch.zeros((27, 27), dtype=torch.int32)
    chars = sorted(list(set(''.join(words))))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi['.'] = 0
    itos = {i: s for s, i in stoi.items()}
    for w in words:
        chs = ['.'] + list(w) + ['.']
        for ch1, ch2 in zip(chs, chs[1:]):
            ix1 = stoi[ch1]
            ix2 = stoi[ch2]
            N[ix1, ix2] += 1

    p = N[0].float()
    p = p / p.sum()
    g = torch.Generator().manual_seed(2147483647)
    first = itos[torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()]

    P = (N + 1).float()
    P /= P.sum(1, keepdims=True)
    g = torch.Generator().manual_seed(2147483647)
    names = []
    for i in range(5):
        out = []
        ix = 0
        while True:
            p = P[ix]
            ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
            out.append(itos[ix])
            if ix == 0:
                break
        names.append(''.join(out))

    log_likelihood = 0.0
    n = 0
    for w in words:
        chs = ['.'] + list(w) + ['.']
        for ch1, ch2 in zip(chs, chs[1:]):
            prob = P[stoi[ch1], stoi[ch2]]
            logprob = torch.log(prob)
            log_likelihood += logprob
            n += 1
    nll = -log_likelihood

    xs, ys = [], []
    for w in words:
        chs = ['.'] + list(w) + ['.']
        for ch1, ch2 in zip(chs, chs[1:]):
            xs.append(stoi[ch1])
            ys.append(stoi[ch2])
    xs = torch.tensor(xs)
    ys = torch.tensor(ys)
    num = xs.nelement()
    g = torch.Generator().manual_seed(2147483647)
    W = torch.randn((27, 27), generator=g, requires_grad=True)
    losses = []
    for k in range(30):
        xenc = F.one_hot(xs, num_classes=27).float()
        logits = xenc @ W
        counts = logits.exp()
        probs = counts / counts.sum(1, keepdims=True)
        loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W ** 2).mean()
        losses.append(loss.item())
        W.grad = None
        loss.backward()
        W.data += -50 * W.grad

    g = torch.Generator().manual_seed(2147483647)
    neural_names = []
    for i in range(5):
        out = []
        ix = 0
        while True:
            xenc = F.one_hot(torch.tensor([ix]), num_classes=27).float()
            logits = xenc @ W
            counts = logits.exp()
            p = counts / counts.sum(1, keepdims=True)
            ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
            out.append(itos[ix])
            if ix == 0:
                break
        neural_names.append(''.join(out))
    return {"N": N, "P": P, "first": first, "names": names, "nll": nll, "mean_nll": nll / n,
            "num": num, "losses": losses, "W": W, "neural_names": neural_names}


def test_makemore_bigram():
    ours, theirs = both(makemore_bigram)
    assert ours["N"].dtype == np.int32 and ours["N"].sum() == 199
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5)
    assert ours["losses"][-1] < ours["losses"][0] - 0.5


# -- makemore parts 2 and 3: the MLP and manual batch norm --------------------------------------
def build_datasets(torch, words):
    chars = sorted(list(set(''.join(words))))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi['.'] = 0
    itos = {i: s for s, i in stoi.items()}
    block_size = 3

    def build_dataset(words):
        X, Y = [], []
        for w in words:
            context = [0] * block_size
            for ch in w + '.':
                ix = stoi[ch]
                X.append(context)
                Y.append(ix)
                context = context[1:] + [ix]
        X = torch.tensor(X)
        Y = torch.tensor(Y)
        return X, Y

    random.shuffle(words)
    n1 = int(0.8 * len(words))
    n2 = int(0.9 * len(words))
    return itos, build_dataset(words[:n1]), build_dataset(words[n1:n2]), build_dataset(words[n2:])


def makemore_mlp(torch, F, words=WORDS * 3):
    itos, (Xtr, Ytr), (Xdev, Ydev), _ = build_datasets(torch, list(words))
    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((27, 10), generator=g)
    W1 = torch.randn((30, 200), generator=g)
    b1 = torch.randn(200, generator=g)
    W2 = torch.randn((200, 27), generator=g)
    b2 = torch.randn(27, generator=g)
    parameters = [C, W1, b1, W2, b2]
    nparams = sum(p.nelement() for p in parameters)
    for p in parameters:
        p.requires_grad = True

    lre = torch.linspace(-3, 0, 1000)
    lrs = 10**lre
    lri = []
    lossi = []
    stepi = []
    for i in range(100):
        ix = torch.randint(0, Xtr.shape[0], (32,))
        emb = C[Xtr[ix]]
        h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Ytr[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = lrs[i * 7]
        for p in parameters:
            p.data += -lr * p.grad
        lri.append(lre[i * 7])
        stepi.append(i)
        lossi.append(loss.log10().item())

    with torch.no_grad():
        emb = C[Xdev]
        h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
        logits = h @ W2 + b2
        dev_loss = F.cross_entropy(logits, Ydev)

    g = torch.Generator().manual_seed(2147483647 + 10)
    names = []
    for _ in range(5):
        out = []
        context = [0] * 3
        while True:
            emb = C[torch.tensor([context])]
            h = torch.tanh(emb.view(1, -1) @ W1 + b1)
            logits = h @ W2 + b2
            probs = F.softmax(logits, dim=1)
            ix = torch.multinomial(probs, num_samples=1, generator=g).item()
            context = context[1:] + [ix]
            out.append(ix)
            if ix == 0:
                break
        names.append(''.join(itos[i] for i in out))
    return {"nparams": nparams, "lossi": lossi, "lri": lri, "dev_loss": dev_loss, "C": C,
            "names": names}


def test_makemore_mlp():
    ours, theirs = both(makemore_mlp)
    assert ours["nparams"] == 11897
    # unnormalized weights and learning rates up to 0.12: float32 rounding grows to ~2e-4
    assert_same(ours, theirs, rtol=2e-4, atol=1e-3)


def makemore_batchnorm(torch, F, words=WORDS * 3):
    itos, (Xtr, Ytr), (Xdev, Ydev), _ = build_datasets(torch, list(words))
    vocab_size, block_size = len(itos), 3
    n_embd = 10
    n_hidden = 200
    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((vocab_size, n_embd), generator=g)
    W1 = torch.randn((n_embd * block_size, n_hidden), generator=g) * (5/3)/((n_embd * block_size)**0.5)  # noqa: E501
    b1 = torch.randn(n_hidden, generator=g) * 0.01
    W2 = torch.randn((n_hidden, vocab_size), generator=g) * 0.01
    b2 = torch.randn(vocab_size, generator=g) * 0
    bngain = torch.ones((1, n_hidden))
    bnbias = torch.zeros((1, n_hidden))
    bnmean_running = torch.zeros((1, n_hidden))
    bnstd_running = torch.ones((1, n_hidden))
    parameters = [C, W1, W2, b2, bngain, bnbias]
    nparams = sum(p.nelement() for p in parameters)
    for p in parameters:
        p.requires_grad = True

    max_steps = 60
    batch_size = 32
    lossi = []
    for i in range(max_steps):
        ix = torch.randint(0, Xtr.shape[0], (batch_size,), generator=g)
        Xb, Yb = Xtr[ix], Ytr[ix]
        emb = C[Xb]
        embcat = emb.view(emb.shape[0], -1)
        hpreact = embcat @ W1 + b1
        bnmeani = hpreact.mean(0, keepdim=True)
        bnstdi = hpreact.std(0, keepdim=True)
        hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias
        with torch.no_grad():
            bnmean_running = 0.999 * bnmean_running + 0.001 * bnmeani
            bnstd_running = 0.999 * bnstd_running + 0.001 * bnstdi
        h = torch.tanh(hpreact)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Yb)
        for p in parameters:
            p.grad = None
        h.retain_grad()
        loss.backward()
        lr = 0.1 if i < 40 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        lossi.append(loss.log10().item())
    saturated = (h.abs() > 0.99).float().mean()
    h_grad = h.grad

    with torch.no_grad():
        emb = C[Xtr]
        embcat = emb.view(emb.shape[0], -1)
        hpreact = embcat @ W1 + b1
        bnmean = hpreact.mean(0, keepdim=True)
        bnstd = hpreact.std(0, keepdim=True)

    @torch.no_grad()
    def split_loss(split):
        x, y = {
            'train': (Xtr, Ytr),
            'val': (Xdev, Ydev),
        }[split]
        emb = C[x]
        embcat = emb.view(emb.shape[0], -1)
        hpreact = embcat @ W1 + b1
        hpreact = bngain * (hpreact - bnmean) / bnstd + bnbias
        h = torch.tanh(hpreact)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, y)
        return loss.item(), loss.requires_grad

    return {"nparams": nparams, "lossi": lossi, "saturated": saturated, "h_grad": h_grad,
            "bnmean_running": bnmean_running, "bnstd_running": bnstd_running,
            "train": split_loss('train')[0], "val": split_loss('val')[0],
            "val_requires_grad": split_loss('val')[1], "bngain": bngain}


def test_makemore_batchnorm():
    ours, theirs = both(makemore_batchnorm)
    assert ours["nparams"] == 12097 and ours["val_requires_grad"] is False
    assert_same(ours, theirs, rtol=2e-4, atol=2e-5)


# -- micrograd's README check against torch ------------------------------------------------------
def micrograd_check(torch, F):
    x = torch.Tensor([-4.0]).double()
    x.requires_grad = True
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xpt, ypt = x, y

    a = torch.Tensor([-4.0]).double()
    b = torch.Tensor([2.0]).double()
    a.requires_grad = True
    b.requires_grad = True
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    apt, bpt, gpt = a, b, g
    return {"y": ypt.data.item(), "x.grad": xpt.grad.item(), "g": gpt.data.item(),
            "a.grad": apt.grad.item(), "b.grad": bpt.grad.item(), "dtype": str(gpt.dtype)[-7:]}


def test_micrograd_check():
    ours, theirs = both(micrograd_check)
    assert_same(ours, theirs, rtol=1e-12, atol=0)
    assert ours["y"] == -20.0 and ours["x.grad"] == 46.0  # micrograd's README values
    assert abs(ours["g"] - 24.70408163265306) < 1e-12


# -- d2l.ai: the from-scratch chapters ----------------------------------------------------------
def d2l_linear_regression(torch, F):
    def synthetic_data(w, b, num_examples):  #@save
        """Generate y = Xw + b + noise."""
        X = torch.normal(0, 1, (num_examples, len(w)))
        y = torch.matmul(X, w) + b
        y += torch.normal(0, 0.01, y.shape)
        return X, y.reshape((-1, 1))

    true_w = torch.tensor([2, -3.4])
    true_b = 4.2
    features, labels = synthetic_data(true_w, true_b, 1000)

    def data_iter(batch_size, features, labels):
        num_examples = len(features)
        indices = list(range(num_examples))
        # The examples are read at random, in no particular order
        random.shuffle(indices)
        for i in range(0, num_examples, batch_size):
            batch_indices = torch.tensor(
                indices[i: min(i + batch_size, num_examples)])
            yield features[batch_indices], labels[batch_indices]

    w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)

    def linreg(X, w, b):  #@save
        """The linear regression model."""
        return torch.matmul(X, w) + b

    def squared_loss(y_hat, y):  #@save
        """Squared loss."""
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2

    def sgd(params, lr, batch_size):  #@save
        """Minibatch stochastic gradient descent."""
        with torch.no_grad():
            for param in params:
                param -= lr * param.grad / batch_size
                param.grad.zero_()

    lr = 0.03
    num_epochs = 3
    net = linreg
    loss = squared_loss
    epoch_losses = []
    for epoch in range(num_epochs):
        for X, y in data_iter(10, features, labels):
            l = loss(net(X, w, b), y)  # noqa: E741 - d2l's name
            l.sum().backward()
            sgd([w, b], lr, 10)
        with torch.no_grad():
            train_l = loss(net(features, w, b), labels)
            epoch_losses.append(float(train_l.mean()))
    return {"losses": epoch_losses, "w_error": true_w - w.reshape(true_w.shape),
            "b_error": true_b - b}


def test_d2l_linear_regression():
    ours, theirs = both(d2l_linear_regression)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-6)
    assert ours["losses"][-1] < 1e-4 and np.abs(ours["w_error"]).max() < 0.01


def d2l_softmax_regression(torch, F):
    def softmax(X):
        X_exp = torch.exp(X)
        partition = X_exp.sum(1, keepdim=True)
        return X_exp / partition  # broadcasting

    num_inputs, num_outputs = 784, 10
    W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
    b = torch.zeros(num_outputs, requires_grad=True)

    def net(X):
        return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

    def cross_entropy(y_hat, y):
        return - torch.log(y_hat[range(len(y_hat)), y])

    def accuracy(y_hat, y):  #@save
        """Compute the number of correct predictions."""
        if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
            y_hat = y_hat.argmax(axis=1)
        cmp = y_hat.type(y.dtype) == y
        return float(cmp.type(y.dtype).sum())

    class Accumulator:  #@save
        """For accumulating sums over `n` variables."""
        def __init__(self, n):
            self.data = [0.0] * n

        def add(self, *args):
            self.data = [a + float(b) for a, b in zip(self.data, args)]

        def __getitem__(self, idx):
            return self.data[idx]

    def evaluate_accuracy(net, data_iter):  #@save
        """Compute the accuracy for a model on a dataset."""
        metric = Accumulator(2)  # No. of correct predictions, no. of predictions
        with torch.no_grad():
            for X, y in data_iter:
                metric.add(accuracy(net(X), y), y.numel())
        return metric[0] / metric[1]

    def sgd(params, lr, batch_size):  #@save
        with torch.no_grad():
            for param in params:
                param -= lr * param.grad / batch_size
                param.grad.zero_()

    def updater(batch_size):
        return sgd([W, b], 0.1, batch_size)

    def train_epoch_ch3(net, train_iter, loss, updater):  #@save
        metric = Accumulator(3)
        for X, y in train_iter:
            y_hat = net(X)
            l = loss(y_hat, y)  # noqa: E741 - d2l's name
            l.sum().backward()
            updater(X.shape[0])
            metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
        return metric[0] / metric[2], metric[1] / metric[2]

    y = torch.tensor([0, 2])
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    picked = y_hat[[0, 1], y]
    # separable synthetic "images": the class is the brightest of ten pixel blocks
    labels = torch.randint(0, 10, (256,))
    images = torch.rand(256, 1, 28, 28) * 0.1
    images = images.reshape(256, 784)
    images[range(256), labels * 78] += 5.0
    images = images.reshape(256, 1, 28, 28)
    train_iter = [(images[i:i + 64], labels[i:i + 64]) for i in range(0, 256, 64)]
    before = evaluate_accuracy(net, train_iter)
    epochs = [train_epoch_ch3(net, train_iter, cross_entropy, updater) for _ in range(3)]
    return {"picked": picked, "ce": cross_entropy(y_hat, y), "acc": accuracy(y_hat, y) / len(y),
            "before": before, "epochs": epochs, "after": evaluate_accuracy(net, train_iter)}


@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True")  # torch's
def test_d2l_softmax_regression():
    ours, theirs = both(d2l_softmax_regression)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5)
    assert ours["acc"] == 0.5 and ours["after"] > 0.9


def d2l_mlp_dropout_weight_decay(torch, F):
    # the MLP from scratch, as Dive-into-DL-PyTorch writes its parameters (d2l.ai's
    # nn.Parameter has no counterpart)
    num_inputs, num_outputs, num_hiddens = 784, 10, 256
    W1 = torch.tensor(np.random.normal(0, 0.01, (num_inputs, num_hiddens)), dtype=torch.float)
    b1 = torch.zeros(num_hiddens, dtype=torch.float)
    W2 = torch.tensor(np.random.normal(0, 0.01, (num_hiddens, num_outputs)), dtype=torch.float)
    b2 = torch.zeros(num_outputs, dtype=torch.float)
    params = [W1, b1, W2, b2]
    for param in params:
        param.requires_grad_(requires_grad=True)

    def relu(X):
        a = torch.zeros_like(X)
        return torch.max(X, a)

    def dropout_layer(X, dropout):
        assert 0 <= dropout <= 1
        # In this case, all elements are dropped out
        if dropout == 1:
            return torch.zeros_like(X)
        # In this case, all elements are kept
        if dropout == 0:
            return X
        mask = (torch.rand(X.shape) > dropout).float()
        return mask * X / (1.0 - dropout)

    def net(X, is_training=True):
        X = X.reshape((-1, num_inputs))
        H = relu(torch.matmul(X, W1) + b1)
        if is_training:
            H = dropout_layer(H, 0.2)
        return torch.matmul(H, W2) + b2

    def l2_penalty(w):
        return torch.sum(w.pow(2)) / 2

    def sgd(params, lr, batch_size):
        with torch.no_grad():
            for param in params:
                param -= lr * param.grad / batch_size
                param.grad.zero_()

    X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
    dropped = [dropout_layer(X, 0.), dropout_layer(X, 0.5), dropout_layer(X, 1.)]
    images = torch.rand(64, 1, 28, 28)
    labels = torch.randint(0, 10, (64,))
    losses = []
    for epoch in range(5):
        y_hat = net(images)
        lam = 3
        loss = F.cross_entropy(y_hat, labels, reduction='sum') + lam * l2_penalty(W1)
        loss.backward()
        sgd(params, 0.5, 64)
        losses.append(loss.item())
    with torch.no_grad():
        correct = (net(images, is_training=False).argmax(dim=1) == labels).sum().item()
    return {"dropped": dropped, "losses": losses, "W1_norm": torch.norm(W1).item(),
            "correct": correct}


def test_d2l_mlp_dropout_weight_decay():
    # np.random feeds the weights (Dive-into-DL-PyTorch's np.random.normal): seeded per run
    th = require_torch()
    results = []
    for torch, F in ((shenjing, shenjing.F), (SameDraws(th), th.nn.functional)):
        np.random.seed(0)
        shenjing.manual_seed(0)
        results.append({k: _plain(v) for k, v in d2l_mlp_dropout_weight_decay(torch, F).items()})
    ours, theirs = results
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(ours["dropped"][0], np.arange(16).reshape(2, 8))
    assert set(np.unique(ours["dropped"][1] / np.arange(16).reshape(2, 8).clip(1))) <= {0, 2}
    assert not ours["dropped"][2].any()


# -- the PyTorch tutorials ------------------------------------------------------------------------
def autograd_tutorials(torch, F):
    # "A Gentle Introduction to torch.autograd"
    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    Q = 3*a**3 - b**2
    external_grad = torch.tensor([1., 1.])
    Q.backward(gradient=external_grad)
    checks = [(9*a**2 == a.grad).all().item(), (-2*b == b.grad).all().item()]

    x = torch.rand(5, 5)
    y = torch.rand(5, 5)
    z = torch.rand((5, 5), requires_grad=True)
    checks += [(x + y).requires_grad, (x + z).requires_grad]

    # the 60-minute blitz's "Autograd: automatic differentiation" (y.data.norm() there:
    # shenjing's .data is the array)
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    out.backward()
    ones_grad = x.grad
    x = torch.randn(3, requires_grad=True)
    y = x * 2
    while y.detach().norm() < 1000:
        y = y * 2
    v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
    y.backward(v)
    scale = x.grad / v
    checks += [x.requires_grad, (x ** 2).requires_grad]
    with torch.no_grad():
        checks.append((x ** 2).requires_grad)
    y = x.detach()
    checks += [y.requires_grad, x.eq(y).all().item()]

    # the Hessian-vector product of the autograd mechanics, by double backward
    x = torch.randn(4, requires_grad=True)
    g, = torch.autograd.grad((x ** 3).sum(), x, create_graph=True)
    hv, = torch.autograd.grad(g, x, grad_outputs=torch.ones(4))
    checks.append(torch.allclose(hv, 6 * x))
    return {"checks": checks, "ones_grad": ones_grad, "scale": scale, "hv": hv}


def test_autograd_tutorials():
    ours, theirs = both(autograd_tutorials)
    assert_same(ours, theirs)
    assert ours["checks"].tolist() == [True, True, False, True, True, True, False, False, True,
                                       True]


def polynomial_fit(torch, F):
    # "Learning PyTorch with Examples": tensors and autograd
    dtype = torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    a = torch.randn((), device=device, dtype=dtype, requires_grad=True)
    b = torch.randn((), device=device, dtype=dtype, requires_grad=True)
    c = torch.randn((), device=device, dtype=dtype, requires_grad=True)
    d = torch.randn((), device=device, dtype=dtype, requires_grad=True)
    learning_rate = 1e-6
    losses = []
    for t in range(500):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
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
    fitted = [a.item(), b.item(), c.item(), d.item()]

    # "Learning PyTorch with Examples": tensors, gradients by hand
    a = torch.randn((), device=device, dtype=dtype)
    b = torch.randn((), device=device, dtype=dtype)
    c = torch.randn((), device=device, dtype=dtype)
    d = torch.randn((), device=device, dtype=dtype)
    for t in range(500):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum().item()
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x ** 2).sum()
        grad_d = (grad_y_pred * x ** 3).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    return {"losses": losses, "fitted": fitted, "by_hand": [a.item(), b.item(), c.item(),
                                                             d.item()], "last_loss": loss}


def test_polynomial_fit():
    ours, theirs = both(polynomial_fit)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("program", [makemore_bigram, micrograd_check, autograd_tutorials])
def test_programs_run_with_the_imports_changed_only(program):
    # the port as a reader makes it, without torch installed next to it
    shenjing.manual_seed(0)
    program(shenjing, shenjing.F)
