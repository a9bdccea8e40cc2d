#!/usr/bin/env python3
"""Compare the paths of lesson 4's optimizers with torch.optim.

For each case below, optim_paths_driver runs the lesson's `opt` source
(source kind `optimizers`: the engine's optimizers, gradients from the
scalar engine) with some parameters set, and prints every optimizer's path.
Here torch.optim (SGD, SGD with momentum, with Nesterov, RMSprop, Adam; the
same lr and momentum, torch's other defaults) walks the same surface,
written in the lesson as an expression of x and y, from the same start on
float32 parameters, with the loss and its gradient in float64 as the
source computes them. Every point must agree within float32 rounding
(relative 1e-5), each loss must be the surface at its
point, and where the source says an optimizer stopped (diverged, or left the
map), torch's run must have left the map at the same step.

Exits 77 (skipped) when torch or numpy cannot be imported.

usage: test_optim_paths_torch.py OPTIM_PATHS_DRIVER LESSON
"""
import json
import math
import re
import subprocess
import sys

try:
    import torch
except Exception as e:  # the reason is printed: meson shows it for a skipped test
    print(f"SKIP: cannot import torch with {sys.executable}: {e}")
    sys.exit(77)

torch.set_num_threads(1)

NAMES = ["sgd", "momentum", "nesterov", "rmsprop", "adam"]

# params set, steps run, tolerance (relative to max(1, |point|)). The two
# implementations round a few float32 operations differently (torch's kernels
# fuse some multiply-adds), and a path that keeps bouncing off the walls of a
# narrow curved floor amplifies a last-bit difference: RMSProp at lr 0.02 on
# Rosenbrock's floor drifts past 1e-4 after about 340 steps, so that case
# stops at 300. Every case here stays within 2e-6.
CASES = [
    (["surf=bowl"], 200, 1e-5),
    (["surf=bowl", "lr=0.3", "mu=0.5", "x0=1.7", "y0=-2.9"], 100, 1e-5),
    (["surf=valley", "y0=1.5", "lr=0.1", "mu=0.95"], 200, 1e-5),
    (["surf=valley", "y0=1.5", "lr=0.55"], 100, 1e-5),
    (["surf=saddle", "x0=-2.5", "y0=0.05", "lr=0.05"], 150, 1e-5),
    (["surf=rosenbrock", "x0=-1.2", "y0=1", "lr=0.001", "steps=1000"], 1000, 1e-5),
    (["surf=rosenbrock", "x0=-1.2", "y0=1", "lr=0.02", "steps=500"], 300, 1e-5),
    (["surf=bumpy", "x0=-2.5", "y0=-2.2", "lr=0.1", "steps=300"], 300, 1e-5),
]

FUNCS = {
    "exp": torch.exp, "log": torch.log, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
    "relu": torch.relu, "abs": torch.abs, "sqrt": torch.sqrt, "max": torch.maximum,
    "min": torch.minimum, "pow": lambda a, c: a ** c,
}


def surface(text):
    """The lesson's expression as a Python function of float64 tensors x, y."""
    expr = re.sub(r"\s+on(\s+[-+0-9.eE]+){4}\s*$", "", text).replace("^", "**")
    code = compile(expr, "surface", "eval")
    return lambda x, y: eval(code, {"__builtins__": {}}, dict(FUNCS, x=x, y=y))


def make(name, p, lr, mu):
    if name == "sgd":
        return torch.optim.SGD([p], lr=lr)
    if name == "momentum":
        return torch.optim.SGD([p], lr=lr, momentum=mu)
    if name == "nesterov":
        return torch.optim.SGD([p], lr=lr, momentum=mu, nesterov=True)
    if name == "rmsprop":
        return torch.optim.RMSprop([p], lr=lr)
    return torch.optim.Adam([p], lr=lr)


def value(f, x, y):
    return f(torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)).item()


def run_case(driver, lesson, params, steps, tol):
    r = subprocess.run([driver, lesson, "opt", str(steps)] + params, capture_output=True, text=True)
    if r.returncode != 0:
        return [f"driver failed: {r.stderr.strip()}"], 0
    got = json.loads(r.stdout)
    f = surface(got["surface"])
    lr, mu = got["lr"][0], got["momentum"]
    xlo, xhi, ylo, yhi = got["range"]
    w, h = xhi - xlo, yhi - ylo
    problems, worst = [], 0.0
    for name in NAMES:
        o = got["optimizers"][name]
        path, loss, status = o["path"], o["loss"], int(o["status"][0])
        n = len(path) // 2 - 1
        p = torch.nn.Parameter(torch.tensor(path[:2], dtype=torch.float32))
        opt = make(name, p, lr, mu)
        start = value(f, path[0], path[1])
        off_at = None
        for i in range(steps):
            opt.zero_grad()
            q = p.double()
            f(q[0], q[1]).backward()
            opt.step()
            x, y = p[0].item(), p[1].item()
            finite = math.isfinite(x) and math.isfinite(y)
            if i + 1 <= n:
                gx, gy = path[2 * (i + 1)], path[2 * (i + 1) + 1]
                err = max(abs(gx - x), abs(gy - y)) / max(1.0, abs(x), abs(y)) if finite else math.inf
                worst = max(worst, err)
                if not err <= tol:
                    problems.append(f"{name}: step {i + 1}: ({gx}, {gy}) here, ({x}, {y}) in torch")
                    break
                want = value(f, gx, gy)
                if loss[i + 1] is None or not abs(loss[i + 1] - want) <= 1e-12 * max(1.0, abs(want)):
                    problems.append(f"{name}: step {i + 1}: loss {loss[i + 1]} is not f(point) = {want}")
                    break
            if not finite:  # the source records no point that is not a number: it stopped before it
                off_at = i
                break
            if x < xlo - w or x > xhi + w or y < ylo - h or y > yhi + h:
                off_at = i + 1
                break
        if status == 0 and (n != steps or off_at is not None):
            problems.append(f"{name}: moving after {n} of {steps} steps, torch left the map at {off_at}")
        if status != 0:
            fx = value(f, path[-2], path[-1])
            kind = 2 if not math.isfinite(fx) or fx > start else 1
            if off_at != n or kind != status:
                problems.append(f"{name}: stopped at step {n} with status {status}; torch left the map at "
                                f"step {off_at} (status {kind})")
    return problems, worst


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    driver, lesson = sys.argv[1], sys.argv[2]
    failed = 0
    for params, steps, tol in CASES:
        problems, worst = run_case(driver, lesson, params, steps, tol)
        ok = not problems
        failed += not ok
        print(f"{'OK' if ok else 'NOT OK'} {' '.join(params)}, {steps} steps: largest difference {worst:.3g}"
              f" (tolerance {tol:g})")
        for line in problems[:10]:
            print(f"    {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
