#!/usr/bin/env python3
"""Compare gradlab's optimizers (through optim_driver) with torch.optim.

Random parameters and a random gradient per step; after every configuration
below, the parameters must agree within float32 tolerance. Exits 77 when
torch or numpy cannot be imported.

usage: test_optim_torch.py OPTIM_DRIVER
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
except Exception as e:
    print(f"SKIP: cannot import torch and numpy with {sys.executable}: {e}")
    sys.exit(77)

torch.set_num_threads(1)

# name, torch constructor, gradlab settings (lr momentum nesterov alpha beta1 beta2 eps wd)
CONFIGS = [
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.05), (0.05, 0, 0, 0.99, 0.9, 0.999, 1e-8, 0)),
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.1), (0.05, 0, 0, 0.99, 0.9, 0.999, 1e-8, 0.1)),
    ("momentum", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9), (0.05, 0.9, 0, 0.99, 0.9, 0.999, 1e-8, 0)),
    ("momentum", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True), (0.05, 0.8, 1, 0.99, 0.9, 0.999, 1e-8, 0)),
    ("adagrad", lambda p: torch.optim.Adagrad(p, lr=0.1), (0.1, 0, 0, 0.99, 0.9, 0.999, 1e-10, 0)),
    ("rmsprop", lambda p: torch.optim.RMSprop(p, lr=0.01), (0.01, 0, 0, 0.99, 0.9, 0.999, 1e-8, 0)),
    ("rmsprop", lambda p: torch.optim.RMSprop(p, lr=0.003, alpha=0.9, eps=1e-6, weight_decay=0.01), (0.003, 0, 0, 0.9, 0.9, 0.999, 1e-6, 0.01)),
    ("adam", lambda p: torch.optim.Adam(p, lr=1e-3), (1e-3, 0, 0, 0.99, 0.9, 0.999, 1e-8, 0)),
    ("adam", lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.05), (0.01, 0, 0, 0.99, 0.8, 0.99, 1e-8, 0.05)),
    ("adamw", lambda p: torch.optim.AdamW(p, lr=1e-3), (1e-3, 0, 0, 0.99, 0.9, 0.999, 1e-8, 0.01)),
    ("adamw", lambda p: torch.optim.AdamW(p, lr=0.02, weight_decay=0.3), (0.02, 0, 0, 0.99, 0.9, 0.999, 1e-8, 0.3)),
]


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    driver = sys.argv[1]
    rng = np.random.default_rng(7)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, make, settings in CONFIGS:
            n, steps = 257, 20
            p0 = rng.standard_normal(n).astype(np.float32)
            g = rng.standard_normal((steps, n)).astype(np.float32)
            np.save(os.path.join(tmp, "p.npy"), p0)
            np.save(os.path.join(tmp, "g.npy"), g)
            out = os.path.join(tmp, "out.npy")
            r = subprocess.run([driver, name, os.path.join(tmp, "p.npy"), os.path.join(tmp, "g.npy"), out]
                               + [repr(v) for v in settings], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"NOT OK {name} {settings}: driver failed: {r.stderr.strip()}")
                failed += 1
                continue
            got = np.load(out)
            p = torch.nn.Parameter(torch.from_numpy(p0.copy()))
            opt = make([p])
            for s in range(steps):
                p.grad = torch.from_numpy(g[s].copy())
                opt.step()
            want = p.detach().numpy()
            err = float(np.abs(got - want).max())
            tol = 1e-5 * max(1.0, float(np.abs(want).max()))
            ok = err <= tol
            failed += not ok
            print(f"{'OK' if ok else 'NOT OK'} {name} {settings}: max abs difference {err:.3g}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
