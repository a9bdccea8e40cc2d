#!/usr/bin/env python3
"""Peer for the lstm_train_step benchmark: the same training step in PyTorch.

nn.LSTM(2, 128, batch_first=True) and a Linear(128, 1) read-out of h_T on the
adding problem, B = 32, T = 100: forward, MSE, backward, clipping by global
norm, Adam. One thread. Prints "RESULT <median ms per step>", timed like the C side:
the calling thread's CPU time, so that other work on the machine does not
count.
"""
import sys
import time

try:
    import torch
except Exception as e:
    print(f"cannot import torch with {sys.executable}: {e}")
    sys.exit(77)

torch.set_num_threads(1)
torch.manual_seed(1)
B, T, I, H = 32, 100, 2, 128
lstm = torch.nn.LSTM(I, H, batch_first=True)
head = torch.nn.Linear(H, 1)
params = list(lstm.parameters()) + list(head.parameters())
opt = torch.optim.Adam(params, lr=1e-3)


def batch():
    x = torch.zeros(B, T, 2)
    x[:, :, 0] = torch.rand(B, T)
    m1 = torch.randint(0, T // 2, (B,))
    m2 = torch.randint(T // 2, T, (B,))
    idx = torch.arange(B)
    x[idx, m1, 1] = 1.0
    x[idx, m2, 1] = 1.0
    y = x[idx, m1, 0] + x[idx, m2, 0]
    return x, y


def step():
    x, y = batch()
    out, _ = lstm(x)
    pred = head(out[:, -1, :]).squeeze(1)
    loss = torch.nn.functional.mse_loss(pred, y)
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()


for _ in range(3):
    step()
times, t0 = [], time.perf_counter()
while len(times) < 20 or (time.perf_counter() - t0 < 5.0 and len(times) < 200):
    t = time.thread_time()
    step()
    times.append(1e3 * (time.thread_time() - t))
times.sort()
n = len(times)
ms = times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2])
print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {n} steps")
print(f"RESULT {ms:.3f}")
