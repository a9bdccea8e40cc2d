#!/usr/bin/env python3
"""Command-line checks for `gradlab model`, `gradlab train` and `gradlab bptt`.

Standard library only (no NumPy), so it runs with any python3: .npy files
are written byte by byte. Checks help texts, every class of bad .npy input
(message names the file, exit status 2), absurd sizes refused before any
allocation, bad flags, bit-for-bit reproducible training runs, the
bptt output, and every documented maximum of bptt and train: run, or refused
up front with the limit named (no wall-clock assertions).

usage: test_cli_models.py GRADLAB [limits]
  (with "limits", only the documented maximums, a separate meson test)
"""
import math
import os
import struct
import subprocess
import sys
import tempfile

GRADLAB = None
failures = []


def run(*args):
    r = subprocess.run([GRADLAB, *args], capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout, r.stderr


def check(cond, what):
    print(("ok     " if cond else "NOT OK ") + what)
    if not cond:
        failures.append(what)


def npy_bytes(shape, values=None, descr="<f4", fortran=False, version=1, data=None):
    d = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        descr, "True" if fortran else "False",
        ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    pre = 10 if version == 1 else 12
    hlen = len(d) + 1
    hlen += (64 - (pre + hlen) % 64) % 64
    head = b"\x93NUMPY" + bytes([version, 0])
    head += struct.pack("<H" if version == 1 else "<I", hlen)
    head += (d + " " * (hlen - len(d) - 1) + "\n").encode()
    if data is None:
        n = 1
        for s in shape:
            n *= s
        if values is None:
            values = [((i * 7919) % 13 - 6) / 10.0 for i in range(n)]
        data = struct.pack("<%d%s" % (n, "f" if descr == "<f4" else "d"), *values)
    return head + data


def write(path, blob):
    with open(path, "wb") as f:
        f.write(blob)


def make_lstm(tmp, B=2, T=3, I=2, H=4, G=4):
    w = os.path.join(tmp, "w")
    os.makedirs(w, exist_ok=True)
    write(os.path.join(w, "weight_ih_l0.npy"), npy_bytes((G * H, I)))
    write(os.path.join(w, "weight_hh_l0.npy"), npy_bytes((G * H, H)))
    write(os.path.join(w, "bias_ih_l0.npy"), npy_bytes((G * H,)))
    write(os.path.join(w, "bias_hh_l0.npy"), npy_bytes((G * H,), descr="<f8"))
    x = os.path.join(tmp, "x.npy")
    write(x, npy_bytes((B, T, I), version=2))
    return w, x


def read_npy_shape(path):
    blob = open(path, "rb").read()
    hlen = struct.unpack("<H", blob[8:10])[0]
    header = blob[10:10 + hlen].decode()
    inner = header[header.index("(") + 1:header.index(")")]
    return tuple(int(s) for s in inner.replace(" ", "").split(",") if s)


def test_help():
    for cmd in (["model", "--help"], ["train", "--help"], ["bptt", "--help"]):
        rc, out, _ = run(*cmd)
        check(rc == 0 and "usage: gradlab " + cmd[0] in out, "%s --help" % cmd[0])


def test_model_ok(tmp):
    w, x = make_lstm(tmp)
    out = os.path.join(tmp, "out")
    rc, _, err = run("model", "lstm", "--weights", w, "--input", x, "--out", out)
    check(rc == 0, "model lstm runs (%s)" % err.strip())
    want = {"output": (2, 3, 4), "h_n": (1, 2, 4), "c_n": (1, 2, 4), "grad_input": (2, 3, 2),
            "grad_h0": (1, 2, 4), "grad_c0": (1, 2, 4), "grad_weight_ih_l0": (16, 2),
            "grad_weight_hh_l0": (16, 4), "grad_bias_ih_l0": (16,), "grad_bias_hh_l0": (16,)}
    for name, shape in want.items():
        p = os.path.join(out, name + ".npy")
        check(os.path.exists(p) and read_npy_shape(p) == shape, "model writes %s.npy %s" % (name, shape))


def expect_bad(args, rc_want, needle, what):
    rc, _, err = run(*args)
    check(rc == rc_want and needle in err, "%s (exit %d, %r)" % (what, rc, err.strip()[:150]))


def test_model_bad_files(tmp):
    w, x = make_lstm(tmp)
    out = os.path.join(tmp, "out")
    wih = os.path.join(w, "weight_ih_l0.npy")
    good = open(wih, "rb").read()
    cases = [
        (npy_bytes((16, 2), fortran=True), "Fortran-order arrays are not supported"),
        (npy_bytes((16, 2), descr="<i4", data=b"\0" * 128), "dtype '<i4' is not supported"),
        (npy_bytes((16, 2), descr=">f4", data=b"\0" * 128), "big-endian dtype '>f4'"),
        (good[:-5], "truncated file"),
        (good[:20], "truncated file"),
        (b"not an npy file at all", "not a .npy file"),
        (good + b"junk", "4 bytes of unexpected data after the array"),
        (good.replace(b"'shape'", b"'shapf'"), "bad header"),
        (npy_bytes((1 << 40, 1 << 40), data=b""), "array is too large"),
        (npy_bytes((15, 2)), "shape (15, 2) is not (4*H, I)"),
    ]
    for blob, needle in cases:
        write(wih, blob)
        expect_bad(["model", "lstm", "--weights", w, "--input", x, "--out", out], 2,
                   wih + ": error: " + needle, "bad weight file: " + needle)
    write(wih, good)
    # A missing file, named with its reason.
    expect_bad(["model", "lstm", "--weights", os.path.join(tmp, "nowhere"), "--input", x, "--out", out],
               2, "weight_ih_l0.npy: error: cannot open", "missing weights")
    # Shapes that disagree with the weights.
    bad_x = os.path.join(tmp, "bad_x.npy")
    write(bad_x, npy_bytes((2, 3, 5)))
    expect_bad(["model", "lstm", "--weights", w, "--input", bad_x, "--out", out], 2,
               bad_x + ": error: shape (2, 3, 5) is not (B, T, I)", "input of the wrong width")
    write(bad_x, npy_bytes((6,)))
    expect_bad(["model", "lstm", "--weights", w, "--input", bad_x, "--out", out], 2,
               bad_x + ": error: shape (6,)", "1-D input")
    h0 = os.path.join(tmp, "h0.npy")
    write(h0, npy_bytes((1, 3, 4)))
    expect_bad(["model", "lstm", "--weights", w, "--input", x, "--h0", h0, "--out", out], 2,
               h0 + ": error: shape (1, 3, 4) does not match", "h0 of the wrong batch")
    # Sizes beyond the limits are refused before allocating: a header that
    # claims a sequence of 30 million steps, with no data behind it.
    write(bad_x, npy_bytes((1, 30000000, 2), data=b""))
    expect_bad(["model", "lstm", "--weights", w, "--input", bad_x, "--out", out], 2,
               bad_x + ": error: truncated file", "huge input header without data")
    write(bad_x, npy_bytes((1, 300000, 2)))
    expect_bad(["model", "lstm", "--weights", w, "--input", bad_x, "--out", out], 2,
               "sequence length 300000 is too large", "sequence longer than the limit")
    big = os.path.join(tmp, "big")
    os.makedirs(big, exist_ok=True)
    write(os.path.join(big, "weight_ih_l0.npy"), npy_bytes((4 * 5000, 1), data=b"\0" * (4 * 20000)))
    expect_bad(["model", "lstm", "--weights", big, "--input", x, "--out", out], 2,
               "weight_hh_l0.npy: error: cannot open", "weights checked one by one")
    # Flags.
    expect_bad(["model", "gru"], 2, "gradlab: error:", "unknown model kind")
    expect_bad(["model", "lstm", "--weights", w, "--input", x], 2, "--out is required", "missing --out")
    expect_bad(["model", "lstm", "--weights", w, "--input", x, "--out", out, "--nonlinearity", "relu"], 2,
               "applies to rnn only", "--nonlinearity with lstm")
    expect_bad(["model", "rnn", "--weights", w, "--input", x, "--out", out, "--nonlinearity", "gelu"], 2,
               "gradlab: error: --nonlinearity", "unknown nonlinearity")
    expect_bad(["model", "lstm", "--weights", w, "--input", x, "--out", out, "--bogus"], 2,
               "unknown option '--bogus'", "unknown option")
    # An rnn on lstm-shaped weights: 16 rows is H = 16 for an RNN, and
    # weight_hh_l0 (16, 4) then does not match.
    expect_bad(["model", "rnn", "--weights", w, "--input", x, "--out", out], 2,
               "weight_hh_l0.npy: error: shape (16, 4) does not match", "rnn on lstm weights")


def test_train():
    args = ["train", "adding", "--model", "lstm", "--T", "12", "--steps", "30", "--hidden", "8",
            "--batch", "4", "--seed", "3"]
    rc1, out1, err1 = run(*args)
    rc2, out2, _ = run(*args)
    check(rc1 == 0 and "test mse:" in out1 and "baseline mse: 0.166667" in out1,
          "train adding runs (%s)" % err1.strip().split("\n")[-1])
    check(out1 == out2, "train adding: same seed, same output")
    check("time:" in err1 and "step 30/30" in err1, "train adding: progress and time on stderr")
    _, out3, _ = run(*args[:-1], "4")
    check(out3 != out1, "train adding: another seed, another run")
    for model in ("rnn", "irnn"):
        rc, out, _ = run("train", "adding", "--model", model, "--T", "10", "--steps", "5",
                         "--hidden", "6", "--batch", "3")
        check(rc == 0 and "test mse:" in out, "train adding --model " + model)
    expect_bad(["train", "adding", "--model", "gru", "--T", "10"], 2, "--model", "unknown model")
    expect_bad(["train", "adding", "--model", "lstm"], 2, "--T is required", "missing --T")
    expect_bad(["train", "adding", "--model", "lstm", "--T", "0"], 2, "--T", "T = 0")
    expect_bad(["train", "adding", "--model", "lstm", "--T", "10", "--hidden", "100000"], 2,
               "--hidden", "absurd hidden size")
    expect_bad(["train", "adding", "--model", "lstm", "--T", "100000", "--batch", "4096"], 2,
               "needs more than 512 MB", "absurd batch x length")
    expect_bad(["train", "adding", "--model", "lstm", "--T", "10", "--lr", "nan"], 2, "--lr", "lr NaN")
    expect_bad(["train", "copy", "--model", "lstm", "--T", "10"], 2, "gradlab: error:", "unknown task")


def test_train_charrnn(tmp):
    """train charrnn: bit-for-bit reproducible, the first loss is ln V, a
    UTF-8 text of any script is read, both models run."""
    text = os.path.join(tmp, "t.txt")
    with open(text, "w", encoding="utf-8") as f:
        f.write("Grüße aus der Mühle — the wheel turns, das Rad dreht sich. " * 6)
    args = ["train", "charrnn", "--text", text, "--steps", "40", "--hidden", "16", "--sample", "60"]
    rc1, out1, err1 = run(*args)
    rc2, out2, _ = run(*args)
    check(rc1 == 0 and rc2 == 0, "train charrnn runs (%s)" % err1.strip().split("\n")[-1])
    check(out1 == out2, "train charrnn: same seed, same output")
    check("time:" in err1 and "step 40/40" in err1, "train charrnn: progress and time on stderr")
    lines = out1.split("\n")
    first = [l for l in lines if l.startswith("first loss:")]
    check(len(first) == 1, "train charrnn prints the first loss")
    if first:
        got, lnv = float(first[0].split()[2]), float(first[0].split("ln V = ")[1].rstrip(")"))
        check(abs(got - lnv) < 0.01, "train charrnn: first loss %g is ln V %g" % (got, lnv))
    sample = out1.split("):\n", 1)[-1].rstrip("\n")
    check(len(sample) == 60 and set(sample) <= set(open(text, encoding="utf-8").read()),
          "train charrnn: 60 characters of the text's own (%r)" % sample)
    rc3, out3, _ = run(*(args + ["--seed", "2"]))
    check(rc3 == 0 and out3 != out1, "train charrnn: another seed, another run")
    rc4, out4, _ = run(*(args + ["--model", "lstm"]))
    check(rc4 == 0 and "lstm, hidden 16" in out4 and "loss:" in out4, "train charrnn --model lstm")
    expect_bad(["train", "charrnn", "--model", "gru"], 2, "--model", "unknown char model")


def test_train_steering():
    args = ["train", "steering", "--model", "cnn-lstm", "--steps", "4", "--lstm-steps", "3", "--seed", "2"]
    rc1, out1, err1 = run(*args)
    rc2, out2, _ = run(*args)
    check(rc1 == 0 and "cnn test mse:" in out1 and "cnn-lstm test mse:" in out1 and "ratio" in out1,
          "train steering runs (%s)" % err1.strip().split("\n")[-1])
    check(out1 == out2, "train steering: same seed, same output")
    check("time:" in err1, "train steering: the time on stderr")
    rc, out, _ = run("train", "steering", "--model", "cnn", "--steps", "2")
    check(rc == 0 and "cnn test mse:" in out and "cnn-lstm" not in out, "train steering --model cnn")
    expect_bad(["train", "steering"], 2, "--model is required", "steering without --model")
    expect_bad(["train", "steering", "--model", "rnn"], 2, "--model", "steering: unknown model")
    expect_bad(["train", "steering", "--model", "cnn", "--steps", "0"], 2, "--steps", "steering: 0 steps")
    expect_bad(["train", "steering", "--model", "cnn", "--T", "5"], 2, "unknown option", "steering: --T")


def test_bptt():
    rc, out, _ = run("bptt", "--model", "rnn", "--activation", "linear", "--init", "orthogonal",
                     "--scale", "1", "--T", "30", "--hidden", "16", "--seed", "2", "--csv")
    lines = out.strip().split("\n")
    check(rc == 0 and lines[0] == "t,grad_norm" and len(lines) == 31, "bptt --csv: header and T rows")
    norms = [float(l.split(",")[1]) for l in lines[1:]]
    # Linear activation and an orthogonal W_hh: the norm stays sqrt(H) = 4.
    check(all(abs(v - 4.0) < 1e-3 for v in norms), "bptt: orthogonal linear keeps ||dL/dh_t|| = sqrt(H)")
    rc, out, _ = run("bptt", "--model", "rnn", "--activation", "tanh", "--init", "normal",
                     "--scale", "0.5", "--T", "40", "--hidden", "32", "--seed", "1", "--csv")
    norms = [float(l.split(",")[1]) for l in out.strip().split("\n")[1:]]
    check(rc == 0 and norms[0] < 1e-6 * norms[-1], "bptt: small scale, tanh: the gradient vanishes")
    rc, out, _ = run("bptt", "--model", "rnn", "--activation", "linear", "--init", "normal",
                     "--scale", "2", "--T", "40", "--hidden", "32", "--seed", "1", "--csv")
    norms = [float(l.split(",")[1]) for l in out.strip().split("\n")[1:]]
    check(rc == 0 and norms[0] > 1e6 * norms[-1], "bptt: scale 2, linear: the gradient explodes")
    rc, out, _ = run("bptt", "--model", "lstm", "--T", "20", "--hidden", "8")
    check(rc == 0 and out.startswith("# lstm") and len(out.strip().split("\n")) == 22, "bptt lstm table")
    rc1, out1, _ = run("bptt", "--T", "20", "--hidden", "8", "--seed", "5", "--init", "uniform")
    rc2, out2, _ = run("bptt", "--T", "20", "--hidden", "8", "--seed", "5", "--init", "uniform")
    check(rc1 == 0 and out1 == out2, "bptt: reproducible by seed")
    expect_bad(["bptt", "--model", "lstm", "--activation", "relu"], 2, "applies to --model rnn only",
               "bptt lstm with relu")
    expect_bad(["bptt", "--scale", "inf"], 2, "--scale", "bptt scale inf")
    expect_bad(["bptt", "--init", "xavier"], 2, "--init", "bptt unknown init")
    expect_bad(["bptt", "--T", "100000", "--hidden", "4096"], 2, "needs more than 512 MB", "bptt absurd sizes")


def expect_refused(args, needles, what):
    """A size past a documented limit: exit 2 at once, and every needle (the
    limit's name and the sizes that fit) in the message."""
    rc, out, err = run(*args)
    ok = rc == 2 and out == "" and all(n in err for n in needles)
    check(ok, "%s refused (exit %d, %r)" % (what, rc, err.strip()[:220]))


def test_limits():
    """Every documented maximum of bptt and train either runs or is refused up
    front with a message that names the limit (see their --help)."""
    for cmd, needles in ((["bptt", "--help"], ["2^32 = 4.3e9", "512 MB", "hidden 4096 up to\nT 85"]),
                         (["train", "--help"], ["2^39 = 5.5e11", "512 MB", "1 to 1000000", "T 133"])):
        _, out, _ = run(*cmd)
        check(all(n in out for n in needles), "%s states its limits" % " ".join(cmd))
    # bptt: work (2^32 multiply-adds) and memory (512 MB), with the sizes that fit.
    work = "more than the limit of 4294967296 (2^32"
    expect_refused(["bptt", "--model", "lstm", "--T", "100000"], [work, "use --T 82241 or less"],
                   "bptt lstm --T 100000")
    expect_refused(["bptt", "--hidden", "4096", "--T", "86"], [work, "use --T 85 or less"],
                   "bptt --hidden 4096 --T 86")
    expect_refused(["bptt", "--hidden", "118", "--T", "100000"], [work, "--hidden 117 or less"],
                   "bptt --hidden 118 --T 100000")
    expect_refused(["bptt", "--T", "100000", "--hidden", "4096"],
                   ["needs more than 512 MB", "use --T 85 or less"], "bptt --T 100000 --hidden 4096")
    expect_refused(["bptt", "--model", "lstm", "--hidden", "4096", "--T", "1"],
                   ["needs more than 512 MB", "the lstm's --hidden is at most 2892"],
                   "bptt lstm --hidden 4096")
    expect_refused(["bptt", "--T", "100001"], ["--T", "1 to 100000"], "bptt --T 100001")
    expect_refused(["bptt", "--hidden", "4097"], ["--hidden", "1 to 4096"], "bptt --hidden 4097")
    # bptt maximums that run: the issue's --T 1 --hidden 4096 (the orthogonal
    # init of a 4096 x 4096 matrix) and the longest sequence.
    rc, out, err = run("bptt", "--T", "1", "--hidden", "4096", "--csv")
    lines = out.strip().split("\n")
    check(rc == 0 and len(lines) == 2 and abs(float(lines[1].split(",")[1]) - 64.0) < 1e-3,
          "bptt --T 1 --hidden 4096 runs (||dL/dh_T|| = sqrt(4096)) (%s)" % err.strip()[:100])
    rc, out, err = run("bptt", "--T", "100000", "--csv")
    check(rc == 0 and out.count("\n") == 100001, "bptt --T 100000 runs (%s)" % err.strip()[:100])
    # train: memory, then work (2^39 multiply-adds), with --T and --steps that fit.
    work = "more than the limit of 549755813888 (2^39"
    expect_refused(["train", "adding", "--model", "lstm", "--T", "100000"],
                   ["needs more than 512 MB", "use --T 133 or less"], "train lstm --T 100000")
    expect_refused(["train", "adding", "--model", "lstm", "--T", "134"],
                   [work, "use --steps", "or --T 133 or less"], "train lstm --T 134")
    expect_refused(["train", "adding", "--model", "rnn", "--T", "525"],
                   [work, "or --T 524 or less"], "train rnn --T 525")
    expect_refused(["train", "adding", "--model", "lstm", "--T", "100", "--steps", "1000000"],
                   [work, "use --steps 33"], "train --steps 1000000")
    expect_refused(["train", "adding", "--model", "lstm", "--T", "10", "--hidden", "4096"],
                   ["needs more than 512 MB"], "train lstm --hidden 4096")
    expect_refused(["train", "adding", "--model", "lstm", "--T", "10", "--steps", "1000001"],
                   ["--steps", "1 to 1000000"], "train --steps 1000001")
    expect_refused(["train", "adding", "--model", "lstm", "--T", "10", "--batch", "4097"],
                   ["--batch", "1 to 4096"], "train --batch 4097")
    expect_refused(["train", "adding", "--model", "lstm", "--T", "100001"],
                   ["--T", "2 to 100000"], "train --T 100001")
    # The longest sequence trains with small sizes.
    rc, out, err = run("train", "adding", "--model", "rnn", "--T", "100000", "--batch", "32",
                       "--hidden", "4", "--steps", "2")
    check(rc == 0 and "test mse:" in out, "train --T 100000 runs at small sizes (%s)" %
          err.strip().split("\n")[-1][:100])


def main():
    global GRADLAB
    if len(sys.argv) not in (2, 3) or (len(sys.argv) == 3 and sys.argv[2] != "limits"):
        print(__doc__)
        return 2
    GRADLAB = sys.argv[1]
    if len(sys.argv) == 3:
        test_limits()
        print("%d failed" % len(failures))
        return 1 if failures else 0
    test_help()
    with tempfile.TemporaryDirectory() as tmp:
        test_model_ok(tmp)
    with tempfile.TemporaryDirectory() as tmp:
        test_model_bad_files(tmp)
    test_train()
    with tempfile.TemporaryDirectory() as tmp:
        test_train_charrnn(tmp)
    test_train_steering()
    test_bptt()
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
