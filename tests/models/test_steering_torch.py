#!/usr/bin/env python3
"""The steering CNN against PyTorch: steering_driver prints four frames,
their targets, the CNN's parameters, its loss and gradients; this rebuilds the
same network with torch.nn.functional (conv2d, relu, max_pool2d, linear) and
compares the angles, the loss and every parameter's gradient.

usage: test_steering_torch.py STEERING_DRIVER
Exit 77 (skipped, with the reason printed) when torch cannot be imported.
"""
import subprocess
import sys

try:
    import torch
    import torch.nn.functional as F
except Exception as e:
    print(f"skipped: cannot import torch with {sys.executable}: {e}")
    sys.exit(77)

out = subprocess.run([sys.argv[1]], capture_output=True, text=True, check=True).stdout
vals = {}
for line in out.splitlines():
    name, *nums = line.split()
    vals[name] = torch.tensor([float(v) for v in nums], dtype=torch.float64)

N, H, W = 4, 32, 64
shapes = {"c1w": (8, 1, 5, 5), "c1b": (8,), "c2w": (16, 8, 3, 3), "c2b": (16,),
          "fcw": (512, 32), "fcb": (32,), "hw": (32, 1), "hb": (1,)}
p = {k: vals[k].reshape(s).clone().requires_grad_(True) for k, s in shapes.items()}
x = vals["frames"].reshape(N, 1, H, W) - 0.5
a = F.max_pool2d(F.relu(F.conv2d(x, p["c1w"], p["c1b"], stride=2, padding=2)), 2, 2)
a = F.max_pool2d(F.relu(F.conv2d(a, p["c2w"], p["c2b"], stride=1, padding=1)), 2, 2)
feat = F.relu(a.reshape(N, -1) @ p["fcw"] + p["fcb"])
angle = feat @ p["hw"] + p["hb"]
loss = F.mse_loss(angle, vals["target"].reshape(N, 1))
loss.backward()

worst = 0.0
def compare(name, ours, theirs):
    global worst
    err = ((ours - theirs).abs().max() / max(1.0, theirs.abs().max().item())).item()
    worst = max(worst, err if err == err else float("inf"))   # a NaN is the worst, not dropped by max
    print(f"{name}: max relative difference {err:.2e}")

compare("angle", vals["angle"], angle.detach().reshape(-1))
compare("loss", vals["loss"], loss.detach().reshape(-1))
for k in shapes:
    compare("grad." + k, vals["grad." + k], p[k].grad.reshape(-1))
# Float32 sums in a different order than PyTorch's float64 here.
if worst > 1e-4:
    print(f"FAIL: largest difference {worst:.2e} > 1e-4")
    sys.exit(1)
print(f"OK: the steering CNN's angles, loss and gradients match PyTorch (largest difference {worst:.2e})")
