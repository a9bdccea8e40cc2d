#!/usr/bin/env python3
"""Compare `gradlab model lstm|rnn` with PyTorch's nn.LSTM / nn.RNN.

For several random shapes, write random weights and inputs as .npy, run
gradlab and torch (float32, batch_first=True) on them, and compare every
output and gradient within float32 tolerance. Exits 77 (meson's "skipped")
with the reason when torch or numpy cannot be imported.

usage: test_torch_compare.py GRADLAB [--seed N]
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
except Exception as e:  # ImportError, or a broken install
    print(f"SKIP: cannot import torch and numpy with {sys.executable}: {e}")
    sys.exit(77)

torch.set_num_threads(1)

# (kind, nonlinearity, B, T, I, H, with h0/c0, with grad-output[, bias])
CASES = [
    ("lstm", None, 1, 1, 1, 1, False, False),
    ("lstm", None, 2, 5, 3, 4, True, True),
    ("lstm", None, 3, 17, 7, 16, False, True),
    ("lstm", None, 4, 33, 2, 32, True, False),
    ("lstm", None, 5, 9, 13, 47, True, True),
    ("rnn", "tanh", 1, 1, 1, 1, False, False),
    ("rnn", "tanh", 2, 6, 3, 5, True, True),
    ("rnn", "tanh", 3, 40, 5, 24, False, False),
    ("rnn", "tanh", 4, 11, 9, 33, True, True),
    ("rnn", "relu", 2, 6, 3, 5, True, True),
    ("rnn", "relu", 3, 25, 4, 20, False, False),
    ("rnn", "relu", 5, 12, 8, 31, True, True),
    ("lstm", None, 3, 7, 4, 9, True, True, False),
    ("rnn", "tanh", 3, 7, 4, 9, True, False, False),
]

PARAMS = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]


def save(path, a):
    np.save(path, np.ascontiguousarray(a, dtype=np.float32))


def run_case(exe, rng, case, tmp):
    kind, nl, B, T, I, H, with_state, with_gout = case[:8]
    bias = case[8] if len(case) > 8 else True
    G = 4 if kind == "lstm" else 1
    bound = 1.0 / np.sqrt(H)
    wdir = os.path.join(tmp, "w")
    odir = os.path.join(tmp, "out")
    os.makedirs(wdir, exist_ok=True)
    weights = {
        "weight_ih_l0": rng.uniform(-bound, bound, (G * H, I)),
        "weight_hh_l0": rng.uniform(-bound, bound, (G * H, H)),
        "bias_ih_l0": rng.uniform(-bound, bound, (G * H,)),
        "bias_hh_l0": rng.uniform(-bound, bound, (G * H,)),
    }
    if nl == "relu":
        # Keep relu activations from growing without bound over long sequences.
        weights["weight_hh_l0"] *= 0.5
    if not bias:
        del weights["bias_ih_l0"], weights["bias_hh_l0"]
    for k, v in weights.items():
        weights[k] = v.astype(np.float32)
        save(os.path.join(wdir, k + ".npy"), weights[k])
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    save(os.path.join(tmp, "x.npy"), x)
    cmd = [exe, "model", kind, "--weights", wdir, "--input", os.path.join(tmp, "x.npy"),
           "--out", odir]
    h0 = c0 = gout = None
    if with_state:
        h0 = rng.standard_normal((1, B, H)).astype(np.float32) * 0.5
        save(os.path.join(tmp, "h0.npy"), h0)
        cmd += ["--h0", os.path.join(tmp, "h0.npy")]
        if kind == "lstm":
            c0 = rng.standard_normal((1, B, H)).astype(np.float32)
            save(os.path.join(tmp, "c0.npy"), c0)
            cmd += ["--c0", os.path.join(tmp, "c0.npy")]
    if with_gout:
        gout = rng.standard_normal((B, T, H)).astype(np.float32)
        save(os.path.join(tmp, "g.npy"), gout)
        cmd += ["--grad-output", os.path.join(tmp, "g.npy")]
    if nl is not None:
        cmd += ["--nonlinearity", nl]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return [f"gradlab exited {r.returncode}: {r.stderr.strip()}"]

    # The same in torch.
    if kind == "lstm":
        mod = torch.nn.LSTM(I, H, batch_first=True, bias=bias)
    else:
        mod = torch.nn.RNN(I, H, nonlinearity=nl, batch_first=True, bias=bias)
    params = PARAMS if bias else PARAMS[:2]
    with torch.no_grad():
        for k in params:
            getattr(mod, k).copy_(torch.from_numpy(weights[k]))
    xt = torch.from_numpy(x).requires_grad_(True)
    h0t = torch.from_numpy(h0 if h0 is not None else np.zeros((1, B, H), np.float32))
    h0t.requires_grad_(True)
    if kind == "lstm":
        c0t = torch.from_numpy(c0 if c0 is not None else np.zeros((1, B, H), np.float32))
        c0t.requires_grad_(True)
        out, (hn, cn) = mod(xt, (h0t, c0t))
    else:
        out, hn = mod(xt, h0t)
    g = torch.from_numpy(gout) if gout is not None else torch.ones_like(out)
    (out * g).sum().backward()

    problems_extra = []
    ref = {
        "output": out.detach().numpy(),
        "h_n": hn.detach().numpy(),
        "grad_input": xt.grad.numpy(),
        "grad_h0": h0t.grad.numpy(),
    }
    if kind == "lstm":
        ref["c_n"] = cn.detach().numpy()
        ref["grad_c0"] = c0t.grad.numpy()
    for k in params:
        ref["grad_" + k] = getattr(mod, k).grad.numpy()
    if not bias:
        for k in PARAMS[2:]:
            if os.path.exists(os.path.join(odir, "grad_" + k + ".npy")):
                problems_extra.append(f"grad_{k}.npy written for a layer without biases")

    problems = problems_extra
    for name, want in ref.items():
        path = os.path.join(odir, name + ".npy")
        if not os.path.exists(path):
            problems.append(f"{name}.npy was not written")
            continue
        got = np.load(path)
        if got.shape != want.shape:
            problems.append(f"{name}: shape {got.shape}, torch has {want.shape}")
            continue
        # float32 tolerance, scaled by the size of the values (gradients are
        # sums over B*T terms).
        scale = max(1.0, float(np.abs(want).max()))
        err = float(np.abs(got.astype(np.float64) - want).max()) if want.size else 0.0
        tol = 2e-5 * scale * max(1.0, np.sqrt(T))
        if not err <= tol:
            problems.append(f"{name}: max abs difference {err:.3g} > {tol:.3g}")
    return problems


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    exe = sys.argv[1]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--seed" else 1234
    rng = np.random.default_rng(seed)
    failed = 0
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            problems = run_case(exe, rng, case, tmp)
        label = "{} {} B={} T={} I={} H={} state={} grad_output={}".format(
            case[0], case[1] or "", *case[2:8]) + ("" if len(case) < 9 or case[8] else " bias=False")
        if problems:
            failed += 1
            print(f"NOT OK {label}")
            for p in problems:
                print(f"    {p}")
        else:
            print(f"OK {label}")
    print(f"{len(CASES) - failed}/{len(CASES)} cases match torch {torch.__version__}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
