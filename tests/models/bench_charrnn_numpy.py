#!/usr/bin/env python3
"""Peer for the charrnn_iter benchmark: min-char-rnn's training loop in NumPy.

Karpathy's min-char-rnn (vanilla RNN, hidden 100, sequence 25, Adagrad 0.1,
gradients clipped to [-5, 5]) on the text file given as argv[1], without the
sampling. Prints "RESULT <median ms per iteration>" in the calling thread's
CPU time, as the C side measures.
"""
import sys
import time

try:
    import numpy as np
except Exception as e:
    print(f"cannot import numpy with {sys.executable}: {e}")
    sys.exit(77)

data = open(sys.argv[1], "r").read()
chars = sorted(set(data))
vocab_size = len(chars)
char_to_ix = {ch: i for i, ch in enumerate(chars)}
hidden_size, seq_length, learning_rate = 100, 25, 1e-1

rng = np.random.default_rng(1)
Wxh = rng.standard_normal((hidden_size, vocab_size)) * 0.01
Whh = rng.standard_normal((hidden_size, hidden_size)) * 0.01
Why = rng.standard_normal((vocab_size, hidden_size)) * 0.01
bh = np.zeros((hidden_size, 1))
by = np.zeros((vocab_size, 1))


def lossFun(inputs, targets, hprev):
    xs, hs, ys, ps = {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
        ys[t] = np.dot(Why, hs[t]) + by
        ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += np.dot(dy, hs[t].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw
        dWxh += np.dot(dhraw, xs[t].T)
        dWhh += np.dot(dhraw, hs[t - 1].T)
        dhnext = np.dot(Whh.T, dhraw)
    for dparam in [dWxh, dWhh, dWhy, dbh, dby]:
        np.clip(dparam, -5, 5, out=dparam)
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]


mWxh, mWhh, mWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
mbh, mby = np.zeros_like(bh), np.zeros_like(by)
smooth_loss = -np.log(1.0 / vocab_size) * seq_length
p, n, times = 0, 0, []
t_start = time.perf_counter()
while n < 300 or (time.perf_counter() - t_start < 5.0 and n < 3000):
    t0 = time.thread_time()
    if p + seq_length + 1 >= len(data) or n == 0:
        hprev = np.zeros((hidden_size, 1))
        p = 0
    inputs = [char_to_ix[ch] for ch in data[p:p + seq_length]]
    targets = [char_to_ix[ch] for ch in data[p + 1:p + seq_length + 1]]
    loss, dWxh, dWhh, dWhy, dbh, dby, hprev = lossFun(inputs, targets, hprev)
    smooth_loss = smooth_loss * 0.999 + loss * 0.001
    for param, dparam, mem in zip([Wxh, Whh, Why, bh, by], [dWxh, dWhh, dWhy, dbh, dby],
                                  [mWxh, mWhh, mWhy, mbh, mby]):
        mem += dparam * dparam
        param += -learning_rate * dparam / np.sqrt(mem + 1e-8)
    p += seq_length
    n += 1
    if n > 20:   # the first iterations warm up
        times.append(1e3 * (time.thread_time() - t0))
times.sort()
print(f"numpy {np.__version__}, vocabulary {vocab_size}, {n} iterations, smooth loss {smooth_loss:.3f}")
print(f"RESULT {times[len(times) // 2]:.4f}")
