"""Karpathy's lectures ported by their imports only (``import shenjing as torch``,
``import shenjing.nn.functional as F``), on small embedded data, each run on shenjing and on real
torch with the same random numbers (``SameDraws``) and compared: makemore part 4 "Backprop Ninja"
(every manual gradient against autograd with its ``cmp``, the fused cross-entropy and batch-norm
backward, training with the manual backward), makemore part 5's WaveNet with its hand-written
layer classes, and "Let's build GPT" (bigram model, the self-attention trick, LayerNorm1d, a GPT
of heads and blocks written with tensors and trained by a hand-written AdamW).

Where the lectures use ``nn.Module``/``nn.Linear``/``nn.Embedding`` (GPT), the weights are tensors
passed to ``F.linear``/``F.embedding`` (torch's (out, in) layout); dropout is 0 during the
compared training (its draws are each library's own) and checked apart.
"""

# ruff: noqa: B007, B023, E501, E701, E702, E731, E741, F841 - the programs keep their original
# style (long lines, one-line classes, unused names) as the lectures wrote it

from __future__ import annotations

import math
import random

from test_ported_torch_programs import WORDS, assert_same, build_datasets
from test_ported_torch_programs import both as both_with

import shenjing


def both(program, *args):
    """``program`` on shenjing with ``shenjing.nn.functional`` and on torch with
    ``torch.nn.functional`` (see ``test_ported_torch_programs.both``)."""
    return both_with(program, *args, functional=shenjing.nn.functional)


# -- (1) Backprop Ninja ---------------------------------------------------------------------------
def backprop_ninja(torch, F, words=None):
    words = WORDS * 3 if words is None else words
    itos, (Xtr, Ytr), (Xdev, Ydev), (Xte, Yte) = build_datasets(torch, words)
    vocab_size = len(itos); block_size = 3
    n_embd = 10; n_hidden = 64
    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((vocab_size, n_embd), generator=g)
    W1 = torch.randn((n_embd * block_size, n_hidden), generator=g) * (5/3)/((n_embd * block_size)**0.5)
    b1 = torch.randn(n_hidden, generator=g) * 0.1
    W2 = torch.randn((n_hidden, vocab_size), generator=g) * 0.1
    b2 = torch.randn(vocab_size, generator=g) * 0.1
    bngain = torch.randn((1, n_hidden))*0.1 + 1.0
    bnbias = torch.randn((1, n_hidden))*0.1
    parameters = [C, W1, b1, W2, b2, bngain, bnbias]
    nparams = sum(p.nelement() for p in parameters)
    for p in parameters:
        p.requires_grad = True
    batch_size = 32
    n = batch_size
    ix = torch.randint(0, Xtr.shape[0], (batch_size,), generator=g)
    Xb, Yb = Xtr[ix], Ytr[ix]
    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hprebn = embcat @ W1 + b1
    bnmeani = 1/n*hprebn.sum(0, keepdim=True)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff**2
    bnvar = 1/(n-1)*(bndiff2).sum(0, keepdim=True)
    bnvar_inv = (bnvar + 1e-5)**-0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    h = torch.tanh(hpreact)
    logits = h @ W2 + b2
    logit_maxes = logits.max(1, keepdim=True).values
    norm_logits = logits - logit_maxes
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdims=True)
    counts_sum_inv = counts_sum**-1
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    loss = -logprobs[range(n), Yb].mean()
    for p in parameters:
        p.grad = None
    for t in [logprobs, probs, counts, counts_sum, counts_sum_inv,
              norm_logits, logit_maxes, logits, h, hpreact, bnraw,
              bnvar_inv, bnvar, bndiff2, bndiff, hprebn, bnmeani,
              embcat, emb]:
        t.retain_grad()
    loss.backward()
    report = []
    def cmp(s, dt, t):
        ex = torch.all(dt == t.grad).item()
        app = torch.allclose(dt, t.grad)
        maxdiff = (dt - t.grad).abs().max().item()
        report.append((s, bool(ex), bool(app), maxdiff))
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0/n
    dprobs = (1.0 / probs) * dlogprobs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    dcounts = counts_sum_inv * dprobs
    dcounts_sum = (-counts_sum**-2) * dcounts_sum_inv
    dcounts += torch.ones_like(counts) * dcounts_sum
    dnorm_logits = counts * dcounts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
    dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - h**2) * dh
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = (-0.5*(bnvar + 1e-5)**-1.5) * dbnvar_inv
    dbndiff2 = (1.0/(n-1))*torch.ones_like(bndiff2) * dbnvar
    dbndiff += (2*bndiff) * dbndiff2
    dhprebn = dbndiff.clone()
    dbnmeani = (-dbndiff).sum(0)
    dhprebn += 1.0/n * (torch.ones_like(hprebn) * dbnmeani)
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(emb.shape)
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] += demb[k, j]
    for name, d, t in [('logprobs', dlogprobs, logprobs), ('probs', dprobs, probs),
                       ('counts_sum_inv', dcounts_sum_inv, counts_sum_inv),
                       ('counts_sum', dcounts_sum, counts_sum), ('counts', dcounts, counts),
                       ('norm_logits', dnorm_logits, norm_logits),
                       ('logit_maxes', dlogit_maxes, logit_maxes), ('logits', dlogits, logits),
                       ('h', dh, h), ('W2', dW2, W2), ('b2', db2, b2), ('hpreact', dhpreact, hpreact),
                       ('bngain', dbngain, bngain), ('bnbias', dbnbias, bnbias), ('bnraw', dbnraw, bnraw),
                       ('bnvar_inv', dbnvar_inv, bnvar_inv), ('bnvar', dbnvar, bnvar),
                       ('bndiff2', dbndiff2, bndiff2), ('bndiff', dbndiff, bndiff),
                       ('bnmeani', dbnmeani, bnmeani), ('hprebn', dhprebn, hprebn),
                       ('embcat', dembcat, embcat), ('W1', dW1, W1), ('b1', db1, b1),
                       ('emb', demb, emb), ('C', dC, C)]:
        cmp(name, d, t)
    # exercise 2
    loss_fast = F.cross_entropy(logits, Yb)
    dlogits = F.softmax(logits, 1)
    dlogits[range(n), Yb] -= 1
    dlogits /= n
    cmp('logits', dlogits, logits)
    # exercise 3
    hpreact_fast = bngain * (hprebn - hprebn.mean(0, keepdim=True)) / torch.sqrt(hprebn.var(0, keepdim=True, unbiased=True) + 1e-5) + bnbias
    dhprebn = bngain*bnvar_inv/n * (n*dhpreact - dhpreact.sum(0) - n/(n-1)*bnraw*(dhpreact*bnraw).sum(0))
    cmp('hprebn', dhprebn, hprebn)
    # exercise 4: training with the manual backward
    n_embd = 10; n_hidden = 200
    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((vocab_size, n_embd), generator=g)
    W1 = torch.randn((n_embd * block_size, n_hidden), generator=g) * (5/3)/((n_embd * block_size)**0.5)
    b1 = torch.randn(n_hidden, generator=g) * 0.1
    W2 = torch.randn((n_hidden, vocab_size), generator=g) * 0.1
    b2 = torch.randn(vocab_size, generator=g) * 0.1
    bngain = torch.randn((1, n_hidden))*0.1 + 1.0
    bnbias = torch.randn((1, n_hidden))*0.1
    parameters = [C, W1, b1, W2, b2, bngain, bnbias]
    for p in parameters:
        p.requires_grad = True
    max_steps = 10
    lossi = []
    with torch.no_grad():
        for i in range(max_steps):
            ix = torch.randint(0, Xtr.shape[0], (batch_size,), generator=g)
            Xb, Yb = Xtr[ix], Ytr[ix]
            emb = C[Xb]
            embcat = emb.view(emb.shape[0], -1)
            hprebn = embcat @ W1 + b1
            bnmean = hprebn.mean(0, keepdim=True)
            bnvar = hprebn.var(0, keepdim=True, unbiased=True)
            bnvar_inv = (bnvar + 1e-5)**-0.5
            bnraw = (hprebn - bnmean) * bnvar_inv
            hpreact = bngain * bnraw + bnbias
            h = torch.tanh(hpreact)
            logits = h @ W2 + b2
            loss = F.cross_entropy(logits, Yb)
            for p in parameters:
                p.grad = None
            dlogits = F.softmax(logits, 1)
            dlogits[range(n), Yb] -= 1
            dlogits /= n
            dh = dlogits @ W2.T
            dW2 = h.T @ dlogits
            db2 = dlogits.sum(0)
            dhpreact = (1.0 - h**2) * dh
            dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
            dbnbias = dhpreact.sum(0, keepdim=True)
            dhprebn = bngain*bnvar_inv/n * (n*dhpreact - dhpreact.sum(0) - n/(n-1)*bnraw*(dhpreact*bnraw).sum(0))
            dembcat = dhprebn @ W1.T
            dW1 = embcat.T @ dhprebn
            db1 = dhprebn.sum(0)
            demb = dembcat.view(emb.shape)
            dC = torch.zeros_like(C)
            for k in range(Xb.shape[0]):
                for j in range(Xb.shape[1]):
                    ix = Xb[k, j]
                    dC[ix] += demb[k, j]
            grads = [dC, dW1, db1, dW2, db2, dbngain, dbnbias]
            lr = 0.1 if i < 100000 else 0.01
            for p, grad in zip(parameters, grads):
                p.data += -lr * grad
            lossi.append(loss.log10().item())
    # calibrate the batch norm at the end of training
    with torch.no_grad():
        emb = C[Xtr]
        embcat = emb.view(emb.shape[0], -1)
        hpreact = embcat @ W1 + b1
        bnmean = hpreact.mean(0, keepdim=True)
        bnvar = hpreact.var(0, keepdim=True, unbiased=True)
    @torch.no_grad()
    def split_loss(split):
        x, y = {'train': (Xtr, Ytr), 'val': (Xdev, Ydev), 'test': (Xte, Yte)}[split]
        emb = C[x]
        embcat = emb.view(emb.shape[0], -1)
        hpreact = embcat @ W1 + b1
        hpreact = bngain * (hpreact - bnmean) * (bnvar + 1e-5)**-0.5 + bnbias
        h = torch.tanh(hpreact)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, y)
        return loss.item()
    return {"report": [r[2] for r in report], "maxdiff": [r[3] for r in report],
            "nparams": nparams, "lossi": lossi, "val": split_loss('val'), "W1": W1}

# -- (2) WaveNet ----------------------------------------------------------------------------------
def wavenet(torch, F, words=None):
    words = WORDS * 3 if words is None else words
    itos, _, _, _ = build_datasets(torch, list(words))
    block_size = 8
    stoi = {s: i for i, s in itos.items()}
    def build_dataset(words):
        X, Y = [], []
        for w in words:
            context = [0] * block_size
            for ch in w + '.':
                ix = stoi[ch]
                X.append(context); Y.append(ix)
                context = context[1:] + [ix]
        return torch.tensor(X), torch.tensor(Y)
    random.seed(42); random.shuffle(words)
    n1 = int(0.8*len(words)); n2 = int(0.9*len(words))
    Xtr, Ytr = build_dataset(words[:n1]); Xdev, Ydev = build_dataset(words[n1:n2])
    vocab_size = len(itos)

    class Linear:
        def __init__(self, fan_in, fan_out, bias=True):
            self.weight = torch.randn((fan_in, fan_out)) / fan_in**0.5
            self.bias = torch.zeros(fan_out) if bias else None
        def __call__(self, x):
            self.out = x @ self.weight
            if self.bias is not None:
                self.out += self.bias
            return self.out
        def parameters(self):
            return [self.weight] + ([] if self.bias is None else [self.bias])

    class BatchNorm1d:
        def __init__(self, dim, eps=1e-5, momentum=0.1):
            self.eps = eps; self.momentum = momentum; self.training = True
            self.gamma = torch.ones(dim); self.beta = torch.zeros(dim)
            self.running_mean = torch.zeros(dim); self.running_var = torch.ones(dim)
        def __call__(self, x):
            if self.training:
                if x.ndim == 2:
                    dim = 0
                elif x.ndim == 3:
                    dim = (0, 1)
                xmean = x.mean(dim, keepdim=True)
                xvar = x.var(dim, keepdim=True)
            else:
                xmean = self.running_mean; xvar = self.running_var
            xhat = (x - xmean) / torch.sqrt(xvar + self.eps)
            self.out = self.gamma * xhat + self.beta
            if self.training:
                with torch.no_grad():
                    self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean
                    self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar
            return self.out
        def parameters(self):
            return [self.gamma, self.beta]

    class Tanh:
        def __call__(self, x):
            self.out = torch.tanh(x); return self.out
        def parameters(self): return []

    class Embedding:
        def __init__(self, num_embeddings, embedding_dim):
            self.weight = torch.randn((num_embeddings, embedding_dim))
        def __call__(self, IX):
            self.out = self.weight[IX]; return self.out
        def parameters(self): return [self.weight]

    class FlattenConsecutive:
        def __init__(self, n): self.n = n
        def __call__(self, x):
            B, T, C = x.shape
            x = x.view(B, T//self.n, C*self.n)
            if x.shape[1] == 1:
                x = x.squeeze(1)
            self.out = x
            return self.out
        def parameters(self): return []

    class Sequential:
        def __init__(self, layers): self.layers = layers
        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            self.out = x
            return self.out
        def parameters(self):
            return [p for layer in self.layers for p in layer.parameters()]

    torch.manual_seed(42)
    n_embd = 8; n_hidden = 32
    model = Sequential([
        Embedding(vocab_size, n_embd),
        FlattenConsecutive(2), Linear(n_embd * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        FlattenConsecutive(2), Linear(n_hidden*2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        FlattenConsecutive(2), Linear(n_hidden*2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        Linear(n_hidden, vocab_size),
    ])
    with torch.no_grad():
        model.layers[-1].weight *= 0.1
    parameters = model.parameters()
    nparams = sum(p.nelement() for p in parameters)
    for p in parameters:
        p.requires_grad = True
    max_steps = 20; batch_size = 32; lossi = []
    for i in range(max_steps):
        ix = torch.randint(0, Xtr.shape[0], (batch_size,))
        Xb, Yb = Xtr[ix], Ytr[ix]
        logits = model(Xb)
        loss = F.cross_entropy(logits, Yb)
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < 150000 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        lossi.append(loss.log10().item())
    shapes = [(layer.__class__.__name__, tuple(layer.out.shape)) for layer in model.layers]
    curve = torch.tensor(lossi).view(-1, 5).mean(1)
    for layer in model.layers:
        layer.training = False
    @torch.no_grad()
    def split_loss(split):
        x, y = {'train': (Xtr, Ytr), 'val': (Xdev, Ydev)}[split]
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        return loss.item()
    names = []
    for _ in range(3):
        out = []
        context = [0] * block_size
        while True:
            logits = model(torch.tensor([context]))
            probs = F.softmax(logits, dim=1)
            ix = torch.multinomial(probs, num_samples=1).item()
            context = context[1:] + [ix]
            out.append(ix)
            if ix == 0:
                break
        names.append(''.join(itos[i] for i in out))
    return {"shapes": str(shapes), "nparams": nparams, "lossi": lossi, "curve": curve,
            "train": split_loss('train'), "val": split_loss('val'), "names": names,
            "rm": model.layers[3].running_mean, "rv": model.layers[3].running_var}

# -- (3) GPT --------------------------------------------------------------------------------------
TEXT = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
        "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n")

def gpt(torch, F, text=TEXT):
    chars = sorted(list(set(text)))
    vocab_size = len(chars)
    stoi = {ch: i for i, ch in enumerate(chars)}
    itos = {i: ch for i, ch in enumerate(chars)}
    encode = lambda s: [stoi[c] for c in s]
    decode = lambda l: ''.join([itos[i] for i in l])
    data = torch.tensor(encode(text), dtype=torch.long)
    info = [str(list(data.shape))]
    n = int(0.9*len(data))
    train_data = data[:n]; val_data = data[n:]
    block_size = 8
    x = train_data[:block_size]; y = train_data[1:block_size+1]
    for t in range(block_size):
        context = x[:t+1]; target = y[t]
        info.append(f"when input is {context.tolist()} the target: {target}")
    torch.manual_seed(1337)
    batch_size = 4
    def get_batch(split):
        data = train_data if split == 'train' else val_data
        ix = torch.randint(len(data) - block_size, (batch_size,))
        x = torch.stack([data[i:i+block_size] for i in ix])
        y = torch.stack([data[i+1:i+block_size+1] for i in ix])
        return x, y
    xb, yb = get_batch('train')

    class BigramLanguageModel:
        def __init__(self, vocab_size):
            self.token_embedding_table = torch.randn(vocab_size, vocab_size, requires_grad=True)
        def parameters(self):
            return [self.token_embedding_table]
        def __call__(self, idx, targets=None):
            logits = self.token_embedding_table[idx]
            if targets is None:
                loss = None
            else:
                B, T, C = logits.shape
                logits = logits.view(B*T, C)
                targets = targets.view(B*T)
                loss = F.cross_entropy(logits, targets)
            return logits, loss
        def generate(self, idx, max_new_tokens):
            for _ in range(max_new_tokens):
                logits, loss = self(idx)
                logits = logits[:, -1, :]
                probs = F.softmax(logits, dim=-1)
                idx_next = torch.multinomial(probs, num_samples=1)
                idx = torch.cat((idx, idx_next), dim=1)
            return idx
    m = BigramLanguageModel(vocab_size)
    logits, loss = m(xb, yb)
    out = {"info": info, "bigram_loss0": loss.item(), "logits_shape": list(logits.shape)}
    out["gen0"] = decode(m.generate(idx=torch.zeros((1, 1), dtype=torch.long), max_new_tokens=20)[0].tolist())
    # SGD with a hand-written step (the lecture's AdamW is below)
    for steps in range(10):
        xb, yb = get_batch('train')
        logits, loss = m(xb, yb)
        for p in m.parameters():
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in m.parameters():
                p -= 1.0 * p.grad
    out["bigram_loss"] = loss.item()

    # the mathematical trick in self-attention
    torch.manual_seed(1337)
    B, T, C = 4, 8, 2
    x = torch.randn(B, T, C)
    xbow = torch.zeros((B, T, C))
    for b in range(B):
        for t in range(T):
            xprev = x[b, :t+1]
            xbow[b, t] = torch.mean(xprev, 0)
    wei = torch.tril(torch.ones(T, T))
    wei = wei / wei.sum(1, keepdim=True)
    xbow2 = wei @ x
    tril = torch.tril(torch.ones(T, T))
    wei = torch.zeros((T, T))
    wei = wei.masked_fill(tril == 0, float('-inf'))
    wei = F.softmax(wei, dim=-1)
    xbow3 = wei @ x
    out["bows"] = [torch.allclose(xbow, xbow2), torch.allclose(xbow, xbow3)]
    # version 4: self-attention (nn.Linear(C, head_size, bias=False) as weights, F.linear)
    B, T, C = 4, 8, 32
    x = torch.randn(B, T, C)
    head_size = 16
    Wk = (torch.randn(head_size, C) * C**-0.5).requires_grad_()
    Wq = (torch.randn(head_size, C) * C**-0.5).requires_grad_()
    Wv = (torch.randn(head_size, C) * C**-0.5).requires_grad_()
    k = F.linear(x, Wk); q = F.linear(x, Wq)
    wei = q @ k.transpose(-2, -1) * head_size**-0.5
    tril = torch.tril(torch.ones(T, T))
    wei = wei.masked_fill(tril == 0, float('-inf'))
    wei = F.softmax(wei, dim=-1)
    v = F.linear(x, Wv)
    att = wei @ v
    att.sum().backward()
    out.update(att=att, wei0=wei[0], gWk=Wk.grad, gWq=Wq.grad, gWv=Wv.grad)
    k = torch.randn(B, T, head_size); q = torch.randn(B, T, head_size)
    wei = q @ k.transpose(-2, -1) * head_size**-0.5
    out["scaled_var"] = [k.var().item(), q.var().item(), wei.var().item()]
    out["softmax_sharp"] = torch.softmax(torch.tensor([0.1, -0.2, 0.3, -0.2, 0.5])*8, dim=-1)

    class LayerNorm1d:
        def __init__(self, dim, eps=1e-5, momentum=0.1):
            self.eps = eps
            self.gamma = torch.ones(dim); self.beta = torch.zeros(dim)
        def __call__(self, x):
            xmean = x.mean(1, keepdim=True)
            xvar = x.var(1, keepdim=True)
            xhat = (x - xmean) / torch.sqrt(xvar + self.eps)
            self.out = self.gamma * xhat + self.beta
            return self.out
        def parameters(self):
            return [self.gamma, self.beta]
    torch.manual_seed(1337)
    module = LayerNorm1d(100)
    x = torch.randn(32, 100)
    x = module(x)
    out["ln"] = [x[:, 0].mean(), x[:, 0].std(), x[0, :].mean(), x[0, :].std()]

    # the GPT with tensors: heads, multi-head attention, feed-forward, blocks, AdamW by hand
    n_embd, n_head, n_layer, dropout = 32, 4, 2, 0.0
    torch.manual_seed(1337)
    params = []
    def P(*shape, std=0.02, zero=False, one=False):
        t = torch.zeros(*shape) if zero else torch.ones(*shape) if one else torch.randn(*shape) * std
        t.requires_grad_(True)
        params.append(t)
        return t
    class Head:
        def __init__(self, head_size):
            self.key = P(head_size, n_embd); self.query = P(head_size, n_embd); self.value = P(head_size, n_embd)
            self.tril = torch.tril(torch.ones(block_size, block_size))
            self.training = True
        def __call__(self, x):
            B, T, C = x.shape
            k = F.linear(x, self.key); q = F.linear(x, self.query)
            wei = q @ k.transpose(-2, -1) * k.shape[-1]**-0.5
            wei = wei.masked_fill(self.tril[:T, :T] == 0, float('-inf'))
            wei = F.softmax(wei, dim=-1)
            wei = F.dropout(wei, p=dropout, training=self.training)
            v = F.linear(x, self.value)
            return wei @ v
    class MultiHeadAttention:
        def __init__(self, num_heads, head_size):
            self.heads = [Head(head_size) for _ in range(num_heads)]
            self.proj_w = P(n_embd, head_size * num_heads); self.proj_b = P(n_embd, zero=True)
        def __call__(self, x):
            out = torch.cat([h(x) for h in self.heads], dim=-1)
            return F.dropout(F.linear(out, self.proj_w, self.proj_b), p=dropout)
    class FeedForward:
        def __init__(self, n_embd):
            self.w1 = P(4 * n_embd, n_embd); self.b1 = P(4 * n_embd, zero=True)
            self.w2 = P(n_embd, 4 * n_embd); self.b2 = P(n_embd, zero=True)
        def __call__(self, x):
            return F.dropout(F.linear(F.relu(F.linear(x, self.w1, self.b1)), self.w2, self.b2), p=dropout)
    class Block:
        def __init__(self, n_embd, n_head):
            head_size = n_embd // n_head
            self.sa = MultiHeadAttention(n_head, head_size)
            self.ffwd = FeedForward(n_embd)
            self.ln1 = (P(n_embd, one=True), P(n_embd, zero=True))
            self.ln2 = (P(n_embd, one=True), P(n_embd, zero=True))
        def __call__(self, x):
            x = x + self.sa(F.layer_norm(x, (n_embd,), *self.ln1))
            x = x + self.ffwd(F.layer_norm(x, (n_embd,), *self.ln2))
            return x
    class GPTLanguageModel:
        def __init__(self):
            self.token_embedding_table = P(vocab_size, n_embd, std=1.0)
            self.position_embedding_table = P(block_size, n_embd, std=1.0)
            self.blocks = [Block(n_embd, n_head=n_head) for _ in range(n_layer)]
            self.ln_f = (P(n_embd, one=True), P(n_embd, zero=True))
            self.lm_head = (P(vocab_size, n_embd), P(vocab_size, zero=True))
        def __call__(self, idx, targets=None):
            B, T = idx.shape
            tok_emb = F.embedding(idx, self.token_embedding_table)
            pos_emb = self.position_embedding_table[torch.arange(T)]
            x = tok_emb + pos_emb
            for block in self.blocks:
                x = block(x)
            x = F.layer_norm(x, (n_embd,), *self.ln_f)
            logits = F.linear(x, *self.lm_head)
            if targets is None:
                loss = None
            else:
                B, T, C = logits.shape
                logits = logits.view(B*T, C)
                targets = targets.view(B*T)
                loss = F.cross_entropy(logits, targets)
            return logits, loss
        def generate(self, idx, max_new_tokens):
            for _ in range(max_new_tokens):
                idx_cond = idx[:, -block_size:]
                logits, loss = self(idx_cond)
                logits = logits[:, -1, :]
                probs = F.softmax(logits, dim=-1)
                idx_next = torch.multinomial(probs, num_samples=1)
                idx = torch.cat((idx, idx_next), dim=1)
            return idx
    model = GPTLanguageModel()
    out["gpt_nparams"] = sum(p.numel() for p in params) / 1e6
    @torch.no_grad()
    def estimate_loss():
        out = {}
        for split in ['train', 'val']:
            losses = torch.zeros(3)
            for k in range(3):
                X, Y = get_batch(split)
                logits, loss = model(X, Y)
                losses[k] = loss.item()
            out[split] = losses.mean()
        return out
    lr, betas, eps, wd = 1e-3, (0.9, 0.999), 1e-8, 1e-2
    state = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    curve = []
    for it in range(1, 7):
        if it % 3 == 0:
            l = estimate_loss()
            curve.append([l['train'].item(), l['val'].item()])
        xb, yb = get_batch('train')
        logits, loss = model(xb, yb)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p, (exp_avg, exp_avg_sq) in zip(params, state):
                grad = p.grad
                p.mul_(1 - lr * wd)
                exp_avg.lerp_(grad, 1 - betas[0])
                exp_avg_sq.mul_(betas[1]).addcmul_(grad, grad, value=1 - betas[1])
                bias_correction1 = 1 - betas[0] ** it
                bias_correction2 = 1 - betas[1] ** it
                step_size = lr / bias_correction1
                denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(eps)
                p.addcdiv_(exp_avg, denom, value=-step_size)
    out["curve"] = curve
    out["gpt_loss"] = loss.item()
    out["gpt_text"] = decode(model.generate(torch.zeros((1, 1), dtype=torch.long), max_new_tokens=15)[0].tolist())
    x = torch.ones(2, 5)
    d = F.dropout(x, p=0.5, training=True)
    out["dropout_ok"] = bool(((d == 0) | (d == 2)).all().item()) and bool((F.dropout(x, 0.5, training=False) == x).all())
    return out


def test_backprop_ninja():
    ours, theirs = both(backprop_ninja)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5)
    assert all(ours["report"]) and max(ours["maxdiff"]) < 1e-6  # every cmp() approximate


def test_wavenet():
    ours, theirs = both(wavenet)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5)
    assert "('FlattenConsecutive', (32, 64))" in ours["shapes"]


def test_lets_build_gpt():
    ours, theirs = both(gpt)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5)
    assert ours["bows"].all() and ours["dropout_ok"]
    assert ours["info"][1] == "when input is [9] the target: 19"
