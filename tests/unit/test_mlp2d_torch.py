#!/usr/bin/env python3
"""Compare the playground's MLP training (lesson 5's `mlp2d` source) with torch.

For each case below, mlp2d_driver trains the network (the tensor engine's
forward and backward, the engine's optimizers) from its seeded data and
initial weights, and prints them with the loss at every step and the final
weights. Here torch builds the same network (nn.Linear layers, the same
activation, a logit z and the mean binary cross-entropy of sigmoid(z)) on
float32 tensors from the same weights and points, and trains it with
torch.optim with the same rate and torch's other defaults. The losses and
the final weights must agree to within float32 rounding, grown over the
steps (relative 1e-4 for the loss, 1e-3 of the largest weight).

Exits 77 (skipped) when torch cannot be imported.

usage: test_mlp2d_torch.py MLP2D_DRIVER
"""
import json
import subprocess
import sys

try:
    import torch
except Exception as e:  # the reason is printed: meson shows it for a skipped test
    print(f"SKIP: cannot import torch with {sys.executable}: {e}")
    sys.exit(77)

torch.set_num_threads(1)

# dataset, layers, units, activation, optimizer, lr, steps, seed, noise
CASES = [
    ("xor", 0, 1, "tanh", "sgd", 0.5, 100, 1, 0.1),
    ("xor", 1, 4, "tanh", "adam", 0.03, 200, 1, 0.1),
    ("spiral", 2, 16, "tanh", "adam", 0.03, 200, 1, 0.1),
    ("moons", 2, 8, "relu", "momentum", 0.1, 150, 3, 0.2),
    ("circles", 1, 6, "sigmoid", "rmsprop", 0.01, 150, 2, 0.05),
    ("circles", 3, 5, "linear", "sgd", 0.1, 100, 4, 0.1),
]

OPTIMIZERS = {
    "sgd": lambda p, lr: torch.optim.SGD(p, lr=lr),
    "momentum": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),
    "rmsprop": lambda p, lr: torch.optim.RMSprop(p, lr=lr),
    "adam": lambda p, lr: torch.optim.Adam(p, lr=lr),
}

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "linear": lambda x: x}


def run(driver, case):
    dataset, layers, units, act, opt, lr, steps, seed, noise = case
    out = subprocess.run([driver, dataset, str(layers), str(units), act, opt, repr(lr), str(steps), str(seed),
                          repr(noise)], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    x = torch.tensor(got["xy"], dtype=torch.float32).reshape(-1, 2)
    y = torch.tensor(got["labels"], dtype=torch.float32).reshape(-1, 1)
    params = [torch.tensor(p["data"], dtype=torch.float32).reshape(p["shape"]).requires_grad_()
              for p in got["params0"]]
    f = ACTIVATIONS[act]
    optim = OPTIMIZERS[opt](params, lr)

    def loss_fn():
        h = x
        for l in range(layers):
            h = f(h @ params[2 * l] + params[2 * l + 1])
        z = h @ params[2 * layers] + params[2 * layers + 1]
        return torch.nn.functional.binary_cross_entropy_with_logits(z, y)

    losses = []
    for _ in range(steps):
        optim.zero_grad()
        loss = loss_fn()
        losses.append(loss.item())
        loss.backward()
        optim.step()
    with torch.no_grad():
        losses.append(loss_fn().item())
    nan_first = lambda e: float("inf") if e != e else e   # max() would drop a NaN
    worst_loss = max((abs(a - b) / max(1e-3, abs(b)) for a, b in zip(got["loss"], losses)), key=nan_first)
    scale = max(1.0, max(abs(v) for p in params for v in p.detach().flatten().tolist()))
    worst_w = max((abs(a - b) for p, q in zip(got["params"], params)
                   for a, b in zip(p["data"], q.detach().flatten().tolist())), key=nan_first) / scale
    return worst_loss, worst_w


def main():
    driver = sys.argv[1]
    failed = 0
    for case in CASES:
        worst_loss, worst_w = run(driver, case)
        ok = worst_loss <= 1e-4 and worst_w <= 1e-3
        print(f"{'ok' if ok else 'NOT OK'} {case}: loss off by {worst_loss:.2e} (relative), "
              f"weights by {worst_w:.2e} (of the largest)")
        failed += not ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
