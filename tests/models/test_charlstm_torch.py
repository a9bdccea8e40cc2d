"""The char-LSTM (src/models/charlstm.h, `gradlab train charrnn --model lstm`)
against PyTorch: charlstm_driver trains it on a small text and saves its
initial and final weights; here torch.nn.LSTM and nn.Linear start from the
same initial weights and run the same loop (sequences of T characters, the
state carried and reset when the text wraps, summed cross-entropy, gradients
clamped to [-5, 5], Adagrad 0.1). Run twice:

- with Adagrad's eps at 1e-3: every step's loss and every final weight must
  agree within float32 tolerance (they do to about 1e-5);
- with the model's own eps, 1e-8: every step's loss must agree. The weights
  are not compared element by element there: Adagrad's first update of a
  weight is lr * g / (|g| + eps), a full step of 0.1 for any |g| well over
  1e-8, so a gradient that is zero but for float rounding (terms of size 1
  cancelling) takes a full step in one implementation and not in the other.
  Over 40 steps about 4% of W_ih differ by up to 0.1 that way while the
  losses still agree to 1e-5.

Exits 77 when torch or numpy cannot be imported.

usage: test_charlstm_torch.py CHARLSTM_DRIVER
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
except Exception as e:  # noqa: BLE001 - any import failure means skip
    print(f"SKIP: cannot import torch and numpy with {sys.executable}: {e}")
    sys.exit(77)

TEXT = ("The wheel turned, and the river ran. The miller said: turn well.\n"
        "The baker sang, the bell rang, and the children counted the boats.\n") * 3
H, T, STEPS, SEED = 24, 25, 40, 5


def compare(driver, eps, weights):
    """Train both with Adagrad's eps; 0 when they agree."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(TEXT)
        out = subprocess.run([driver, path, d, str(H), str(T), str(STEPS), str(SEED), repr(eps)],
                             capture_output=True, text=True, check=True).stdout.split()
        V, n = int(out[0]), int(out[1])
        losses = [float(x) for x in out[2:]]
        load = lambda s, k: torch.from_numpy(np.load(os.path.join(d, f"{s}_{k}.npy")))
        chars = sorted(set(TEXT))
        assert len(chars) == V and len(TEXT) == n, (len(chars), V, len(TEXT), n)
        ids = [chars.index(ch) for ch in TEXT]

        lstm = torch.nn.LSTM(V, H)
        lin = torch.nn.Linear(H, V)
        with torch.no_grad():
            for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(lstm, k + "_l0").copy_(load("init", k))
            lin.weight.copy_(load("init", "why"))
            lin.bias.copy_(load("init", "by"))
        params = list(lstm.parameters()) + list(lin.parameters())
        opt = torch.optim.Adagrad(params, lr=0.1, eps=eps)
        pos, h, c = 0, None, None
        worst = 0.0
        for s in range(STEPS):
            if pos + T + 1 > n - 1 or pos == 0:
                pos = 0
                h = torch.zeros(1, 1, H)
                c = torch.zeros(1, 1, H)
            x = torch.nn.functional.one_hot(torch.tensor(ids[pos:pos + T]), V).float().unsqueeze(1)
            y = torch.tensor(ids[pos + 1:pos + T + 1])
            o, (hn, cn) = lstm(x, (h, c))
            loss = torch.nn.functional.cross_entropy(lin(o[:, 0, :]), y, reduction="sum")
            opt.zero_grad()
            loss.backward()
            for p in params:
                p.grad.clamp_(-5, 5)
            opt.step()
            h, c = hn.detach(), cn.detach()
            pos += T
            err = abs(loss.item() - losses[s]) / max(1.0, abs(loss.item()))
            worst = max(worst, err)
            if not err <= 1e-4:   # a NaN fails too
                print(f"FAIL: eps {eps}: step {s + 1}: loss {losses[s]!r}, torch {loss.item()!r}")
                return 1
        final = {"weight_ih": lstm.weight_ih_l0, "weight_hh": lstm.weight_hh_l0, "bias_ih": lstm.bias_ih_l0,
                 "bias_hh": lstm.bias_hh_l0, "why": lin.weight, "by": lin.bias}
        for k, p in final.items() if weights else []:
            d_all = (p.detach() - load("final", k)).abs()
            diff = d_all.max().item()
            if not diff <= 1e-4:
                print(f"FAIL: eps {eps}: {k} after {STEPS} steps differs by {diff}")
                return 1
            print(f"ok eps {eps}: {k} agrees within {diff:.3g}")
        print(f"ok eps {eps}: {STEPS} losses agree within {worst:.3g} (relative), "
              f"from {losses[0]:.4f} to {losses[-1]:.4f}")
    return 0


def main():
    driver = sys.argv[1]
    torch.set_num_threads(1)
    return compare(driver, 1e-3, True) or compare(driver, 1e-8, False)


if __name__ == "__main__":
    sys.exit(main())
