#!/usr/bin/env python3
"""Peer for the conv benchmark (bench_conv.c): one of the steering CNN's
conv2d or max-pool layers in PyTorch on one thread, forward or backward.

usage: bench_conv_torch.py conv1_fwd|conv1_bwd|pool1_fwd|...|pool2_bwd
Prints "RESULT <median ms>", timed like the C side: the calling thread's CPU
time, median over many runs. Backward is from the sum of the output, into
the input (and for conv the weight and bias).
"""
import sys
import time

try:
    import torch
except Exception as e:
    print(f"cannot import torch with {sys.executable}: {e}")
    sys.exit(77)

torch.set_num_threads(1)
torch.manual_seed(7)
N = 128
CASES = {  # C, H, W, F, K, stride, pad (F = 0: max-pool)
    "conv1": (1, 32, 64, 8, 5, 2, 2),
    "pool1": (8, 16, 32, 0, 2, 2, 0),
    "conv2": (8, 8, 16, 16, 3, 1, 1),
    "pool2": (16, 8, 16, 0, 2, 2, 0),
}
layer, direction = sys.argv[1].split("_")
C, H, W, F, K, stride, pad = CASES[layer]
x = torch.randn(N, C, H, W, requires_grad=True)
if F:
    conv = torch.nn.Conv2d(C, F, K, stride=stride, padding=pad)
    op = conv
else:
    op = torch.nn.MaxPool2d(K, stride=stride)

times = []
start = time.monotonic()
while len(times) < 20 or (time.monotonic() - start < 3.0 and len(times) < 400):
    x.grad = None
    if F:
        conv.zero_grad()
    t0 = time.thread_time()
    y = op(x)
    t1 = time.thread_time()
    loss = y.sum()
    t2 = time.thread_time()
    loss.backward()
    t3 = time.thread_time()
    times.append(1e3 * ((t1 - t0) if direction == "fwd" else (t3 - t2)))
times.sort()
n = len(times)
median = times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2])
print(f"RESULT {median:.6f}")
