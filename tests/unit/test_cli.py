#!/usr/bin/env python3
"""test_cli.py: the gradlab command line, end to end.

`gradlab grad` text and JSON output (the CS231n circuit numbers, round-trip
digits, reassigned names), error messages and exit status 2, a missing file,
`gradlab dot` rendered by Graphviz when `dot` is installed, `gradlab check`
TAP and its exit status, `gradlab render` PNGs, --help, --version and bad
option values.

usage: test_cli.py PATH/TO/gradlab      (exit 0 pass, 1 fail, 77 skip)
"""
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import traceback

GRADLAB = None
TMP = None
CIRCUIT = "x=-2;y=5;z=-4;f=(x+y)*z"


def run(*args, env=None, input_text=None):
    """Run gradlab with args; return (status, stdout, stderr)."""
    e = dict(os.environ)
    for k, v in (env or {}).items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    p = subprocess.run([GRADLAB, *args], capture_output=True, env=e, input=input_text)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def expect_eq(got, want, what=""):
    if got != want:
        raise AssertionError("%s\n--- got:\n%r\n--- want:\n%r" % (what, got, want))


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    expect(head[:8] == b"\x89PNG\r\n\x1a\n", "%s is not a PNG" % path)
    expect(head[12:16] == b"IHDR", "%s has no IHDR first" % path)
    return struct.unpack(">II", head[16:24])


# ---------------------------------------------------------------------------
# gradlab grad

def test_grad_text():
    rc, out, err = run("grad", "-e", CIRCUIT)
    expect_eq(rc, 0, "exit status")
    expect_eq(err, "", "stderr")
    expect_eq(out,
              "name  value                     grad\n"
              "x     -2                        -4\n"
              "y     5                         -4\n"
              "z     -4                        3\n"
              "f     -12                       1\n")


def test_grad_json():
    for args in (["grad", "-e", CIRCUIT, "--json"], ["grad", "--json", "-e", CIRCUIT]):
        rc, out, err = run(*args)
        expect_eq(rc, 0, "exit status")
        doc = json.loads(out)
        expect_eq(doc["output"], "f")
        vals = {v["name"]: v for v in doc["values"]}
        expect_eq([v["name"] for v in doc["values"]], ["x", "y", "z", "f"])
        expect_eq(vals["f"]["value"], -12)
        expect_eq(vals["f"]["grad"], 1)
        expect_eq((vals["x"]["grad"], vals["y"]["grad"], vals["z"]["grad"]), (-4, -4, 3))
        expect_eq((vals["x"]["value"], vals["y"]["value"], vals["z"]["value"]), (-2, 5, -4))


def test_grad_file():
    path = write("circuit.prog", "# the CS231n circuit\nx = -2\ny = 5\nz = -4\nq = x + y\nf = q * z\n")
    rc, out, err = run("grad", path, "--json")
    expect_eq(rc, 0, "exit status")
    vals = {v["name"]: v for v in json.loads(out)["values"]}
    expect_eq(vals["q"], {"name": "q", "value": 3, "grad": -4})


def test_round_trip_digits():
    rc, out, err = run("grad", "-e", "a=0.1;b=a*3")
    expect_eq(rc, 0)
    expect("0.30000000000000004" in out, "text output lacks 0.30000000000000004:\n" + out)
    rc, out, err = run("grad", "--json", "-e", "a=0.1;b=a*3")
    expect("0.30000000000000004" in out, "JSON lacks 0.30000000000000004:\n" + out)
    vals = {v["name"]: v for v in json.loads(out)["values"]}
    expect_eq(vals["b"]["value"], 0.1 * 3)
    # Values whose shortest form needs 17 digits, or exponents, read back exactly.
    prog = "x=0.3333333333333333;y=2.718281828459045;w=1e-300;a=x*y;b=exp(y)/x;c=w*1e-10;f=a+b"
    rc, out, err = run("grad", "--json", "-e", prog)
    expect_eq(rc, 0)
    vals = {v["name"]: v for v in json.loads(out)["values"]}
    x, y = 0.3333333333333333, 2.718281828459045
    expect_eq(vals["a"]["value"], x * y, "a")
    expect_eq(vals["b"]["value"], math.exp(y) / x, "b")
    expect_eq(vals["c"]["value"], 1e-300 * 1e-10, "c")
    expect_eq(vals["f"]["value"], x * y + math.exp(y) / x, "f")
    want = y - math.exp(y) / (x * x)
    expect(math.isclose(vals["x"]["grad"], want, rel_tol=1e-14), "df/dx %r, expected %r" % (vals["x"]["grad"], want))


def test_round_numbers_plain():
    # Issue 8: 10 and 20 printed as 1e+01 and 2e+01.
    rc, out, err = run("grad", "-e", "x = 10; f = x * 2")
    expect_eq(rc, 0, err)
    expect_eq(out,
              "name  value                     grad\n"
              "x     10                        2\n"
              "f     20                        1\n")
    rc, out, err = run("grad", "--json", "-e", "x = 10; a = x * 2; b = a * 1e299; c = x / 1e6; f = b + c")
    expect_eq(rc, 0, err)
    expect('"value": 10,' in out and '"value": 20,' in out, out)
    expect('"value": 2e+300,' in out and '"value": 0.00001' not in out, out)
    vals = {v["name"]: v for v in json.loads(out)["values"]}
    expect_eq(vals["c"]["value"], 1e-05)
    expect_eq(vals["b"]["value"], 2e300)


def test_reassigned_name():
    # Issue 8: only the last c was listed; every assignment is, as c@1, c@2, ...
    rc, out, err = run("grad", "--json", "-e", "c=1;c=c+1;c=c*c")
    expect_eq(rc, 0)
    doc = json.loads(out)
    expect_eq(doc, {"output": "c@3", "values": [{"name": "c@1", "value": 1, "grad": 4},
                                                {"name": "c@2", "value": 2, "grad": 4},
                                                {"name": "c@3", "value": 4, "grad": 1}]})
    rc, out, err = run("grad", "-e", "c=1;c=c+1;c=c*c")
    expect_eq(out, "name  value                     grad\n"
                   "c@1   1                         4\n"
                   "c@2   2                         4\n"
                   "c@3   4                         1\n")
    # The input's gradient (4) is listed; names assigned once keep their name.
    rc, out, err = run("grad", "-e", "x = 2; x = x * x; y = x + 1")
    expect_eq(out, "name  value                     grad\n"
                   "x@1   2                         4\n"
                   "x@2   4                         1\n"
                   "y     5                         1\n")
    rc, out, err = run("dot", "-e", "x = 2; x = x * x")
    expect('label="{x@1 | data 2 | grad 4}"' in out and 'label="{x@2 | data 4 | grad 1}"' in out, out)
    rc, out, err = run("grad", "--help")
    expect("NAME@1" in out, out)


def test_nan_is_null_in_json():
    rc, out, err = run("grad", "--json", "-e", "x=-1;f=log(x)")
    expect_eq(rc, 0)
    vals = {v["name"]: v for v in json.loads(out)["values"]}
    expect_eq(vals["f"]["value"], None)


def test_grad_errors():
    rc, out, err = run("grad", "-e", "x=1;f=w*2")
    expect_eq(rc, 2, "exit status")
    expect_eq(out, "", "stdout")
    expect_eq(err, "-e:1:7: error: unknown name 'w'; did you mean 'x'?\n    x=1;f=w*2\n          ^\n")
    path = write("bad.prog", "x = 1\ny = x +\n")
    rc, out, err = run("grad", path)
    expect_eq(rc, 2)
    expect_eq(err, "%s:2:8: error: expected a number, a name or '(' after '+'\n    y = x +\n           ^\n" % path)
    rc, out, err = run("dot", "-e", "x=1;f=(x")
    expect_eq(rc, 2)
    expect_eq(err, "-e:1:9: error: missing ')' to close the '(' at column 7\n    x=1;f=(x\n            ^\n")
    rc, out, err = run("grad", "-e", "")
    expect_eq(rc, 2)
    expect(err.startswith("-e:1:1: error: the program is empty"), err)


def test_missing_file():
    rc, out, err = run("grad", "/nonexistent/dir/p.prog")
    expect_eq(rc, 2)
    expect_eq(err, "gradlab: error: cannot open '/nonexistent/dir/p.prog': No such file or directory\n")
    rc, out, err = run("dot", TMP)
    expect_eq(rc, 2)
    expect(TMP in err and "directory" in err, err)
    rc, out, err = run("check", "/nonexistent/x.lesson")
    expect_eq(rc, 2)
    expect("/nonexistent/x.lesson" in err and "No such file or directory" in err, err)


def test_grad_usage_errors():
    rc, out, err = run("grad")
    expect_eq(rc, 2)
    expect(err.startswith("gradlab: error: grad needs a program"), err)
    rc, out, err = run("grad", "a.prog", "-e", "f=1")
    expect_eq(rc, 2)
    rc, out, err = run("grad", "-e")
    expect_eq(rc, 2)
    expect_eq(err, "gradlab: error: -e needs a program after it, as in -e 'f = 2 * 3'\n")
    rc, out, err = run("grad", "--bogus", "-e", "f=1")
    expect_eq(rc, 2)
    expect(err.startswith("gradlab: error: grad: unknown option '--bogus'"), err)
    rc, out, err = run("grad", "--help")
    expect_eq(rc, 0)
    expect(out.startswith("usage: gradlab grad"), out)


# ---------------------------------------------------------------------------
# gradlab dot

def test_dot():
    rc, out, err = run("dot", "-e", CIRCUIT)
    expect_eq(rc, 0)
    expect(out.startswith("digraph"), out)
    expect(out.rstrip().endswith("}"), out)
    expect('label="{f | data -12 | grad 1}"' in out, out)
    expect('label="{x | data -2 | grad -4}"' in out, out)
    expect('label="{z | data -4 | grad 3}"' in out, out)
    dot = shutil.which("dot")
    if not dot:
        print("# skip: Graphviz 'dot' is not installed; DOT output not rendered")
        return
    programs = [CIRCUIT, "x=-1;f=log(x)^2", "x=2;y=-3;q=x^-1.5;r=max(x,y)/min(x,y);f=sigmoid(q)-tanh(r)+abs(-x)"]
    for prog in programs:
        rc, out, err = run("dot", "-e", prog)
        expect_eq(rc, 0, prog)
        p = subprocess.run([dot, "-Tsvg"], input=out.encode("utf-8"), capture_output=True)
        expect_eq(p.returncode, 0, "dot -Tsvg failed for %s: %s" % (prog, p.stderr.decode()))
        svg = p.stdout.decode("utf-8")
        expect("<svg" in svg and "</svg>" in svg, "no SVG for " + prog)
        expect(p.stderr.decode().strip() == "", "dot warned: " + p.stderr.decode())


# ---------------------------------------------------------------------------
# gradlab check

def parse_tap(out):
    lines = out.splitlines()
    expect_eq(lines[0], "TAP version 13")
    plan = [l for l in lines if re.match(r"^1\.\.\d+$", l)]
    expect_eq(len(plan), 1, "one plan line")
    results = [l for l in lines if re.match(r"^(not )?ok \d+ ", l)]
    expect_eq(int(plan[0][3:]), len(results), "plan count")
    for i, l in enumerate(results, 1):
        expect(re.match(r"^(not )?ok %d - " % i, l), "numbering: " + l)
    return results


def small_data_dir():
    """A data folder with the real assets and only the first two bundled
    lessons: a bare `check` goes through every bundled lesson, and the ones
    that train take a minute (suite 'slow' checks those)."""
    root = os.path.join(TMP, "data")
    if not os.path.isdir(root):
        real = os.environ["GRADLAB_DATA_DIR"]
        os.makedirs(os.path.join(root, "lessons"))
        os.symlink(os.path.join(real, "assets"), os.path.join(root, "assets"))
        for name in ("01-circuit.lesson", "02-gates.lesson"):
            with open(os.path.join(real, "lessons", name), "rb") as src, \
                    open(os.path.join(root, "lessons", name), "wb") as dst:
                dst.write(src.read())
    return root


def test_check():
    for args in (["check"], ["check", "1"]):
        rc, out, err = run(*args, env={"GRADLAB_DATA_DIR": small_data_dir()})
        expect_eq(rc, 0, " ".join(args) + ": " + out + err)
        results = parse_tap(out)
        expect(all(r.startswith("ok") for r in results), out)
        expect("ok 2 - 01-circuit: f == -12 (got -12)" in out, out)
        expect("grad x == -4 (got -4)" in out, out)
        expect("grad z == 3 (got 3)" in out, out)


def test_check_failing():
    good = write("good.lesson", "gradlab-lesson: 1\ntitle: Good\nprogram:\n    x = 2\n    f = x * 3\n"
                                "step: auto\ncheck: f == 6\ncheck: grad x == 3\n")
    bad = write("failing.lesson", "gradlab-lesson: 1\ntitle: Failing\nprogram:\n    x = 2\n    f = x * 3\n"
                                  "step: auto\ncheck: f == 6\ncheck: f == 7\n")
    rc, out, err = run("check", good)
    expect_eq(rc, 0, out)
    rc, out, err = run("check", bad)
    expect_eq(rc, 1, "a failing check exits 1")
    results = parse_tap(out)
    expect_eq(results[2], "not ok 3 - failing: f == 7 (got 6)")
    expect("  ---\n  file: %s\n  line: 8\n  ...\n" % bad in out, out)
    rc, out, err = run("check", "1", bad, good)
    expect_eq(rc, 1)
    expect_eq(len(parse_tap(out)), 8 + 3 + 3)  # lesson 1: screens, 6 checks and gradcheck
    broken = write("broken.lesson", "gradlab-lesson: 1\ntitle: Broken\nprogram:\n    f = x * 3\nstep: auto\n")
    rc, out, err = run("check", broken)
    expect_eq(rc, 2, "a lesson that does not load exits 2")
    expect_eq(err, "%s:4:9: error: unknown name 'x'; assign it on an earlier line, as in x = 1\n"
                   "        f = x * 3\n            ^\n" % broken)
    expect("not ok 1 - broken: the lesson file does not load" in out, out)
    rc, out, err = run("check", "99")
    expect_eq(rc, 2)
    expect("no lesson 99" in err, err)


def test_check_too_many_arrays():
    """Sources that publish more arrays together than a run holds: the one
    that does not fit fails, once, with what it asked for and the limit."""
    src = "".join("source: %s mlp2d layers 1 units 24 bind on points 20 limit 5 grid 10 ngrid 4\n" % n
                  for n in "abc")
    crowded = write("crowded.lesson", "gradlab-lesson: 2\ntitle: Crowded\n" + src +
                    "program:\n    x = 1\n    f = x * 2\nstep: intro\nstep: done\n")
    rc, out, err = run("check", crowded)
    expect_eq(rc, 1, out)
    expect("not ok 1 - crowded: all 2 steps build their screens" in out, out)
    told = [l for l in out.splitlines() if "source 'c'" in l]
    expect_eq(len(told), 1, out)
    expect(re.match(r"^# step 1: source 'c' failed: it publishes \d+ arrays; with the \d+ of the sources "
                    r"before it that is more than 256, the most a lesson's sources may publish together$",
                    told[0]), told[0])


# ---------------------------------------------------------------------------
# gradlab render

def test_render():
    out_dir = os.path.join(TMP, "png")
    rc, out, err = run("render", "1", "--out", out_dir)
    expect_eq(rc, 0, err)
    names = sorted(os.listdir(out_dir))
    expect_eq(names, ["01-circuit-step%02d.png" % i for i in range(1, 8)])
    for n in names:
        path = os.path.join(out_dir, n)
        expect_eq(png_size(path), (1280, 720), n)
        expect(os.path.getsize(path) > 5000, "%s is suspiciously small" % n)
    expect_eq(err, "gradlab: wrote 7 PNGs to %s\n" % out_dir)
    # Another size, theme and scale, into an existing folder.
    rc, out, err = run("render", "1", "--out", out_dir, "--size", "640x360", "--theme", "light", "--scale", "1.5")
    expect_eq(rc, 0, err)
    expect_eq(png_size(os.path.join(out_dir, "01-circuit-step03.png")), (640, 360))


def test_render_errors():
    cases = [
        (["--size", "0x0"], "gradlab: error: --size: '0x0' is not a size; write WIDTHxHEIGHT such as 1280x720, "
                            "each side from 64 to 7680\n"),
        (["--size", "100"], "gradlab: error: --size: '100' is not a size; write WIDTHxHEIGHT such as 1280x720, "
                            "each side from 64 to 7680\n"),
        (["--scale", "abc"], "gradlab: error: --scale: 'abc' is not a finite number; write it like 0.01 or 1e-3\n"),
        (["--scale", "9"], "gradlab: error: --scale: '9' is out of range; use a number from 0.25 to 4\n"),
        (["--theme", "nope"], "gradlab: error: --theme: 'nope' is not one of dark, light, contrast\n"),
        (["--size"], "gradlab: error: --size needs a value after it\n"),
    ]
    out_dir = os.path.join(TMP, "never")
    for extra, want in cases:
        rc, out, err = run("render", "1", "--out", out_dir, *extra)
        expect_eq(rc, 2, " ".join(extra))
        expect_eq(err, want, " ".join(extra))
    expect(not os.path.exists(out_dir), "a failed render created its folder")
    for bad in (["--size", "nanxnan"], ["--size", "-640x480"], ["--scale", "nan"], ["--scale", "inf"],
                ["--scale", "1.5x"], ["--size", "640x480x2"]):
        rc, out, err = run("render", "1", "--out", out_dir, *bad)
        expect_eq(rc, 2, " ".join(bad))
        expect(err.startswith("gradlab: error: " + bad[0]), err)
    rc, out, err = run("render", "1")
    expect_eq(rc, 2)
    expect(err.startswith("gradlab: error: render needs --out DIR\n"), err)
    rc, out, err = run("render", "1", "--out", "/nonexistent/a/b")
    expect_eq(rc, 2)
    expect_eq(err, "gradlab: error: cannot create '/nonexistent/a/b': No such file or directory\n")


# ---------------------------------------------------------------------------
# Top level

def test_help_version():
    rc, out, err = run("--help")
    expect_eq(rc, 0)
    expect(out.startswith("usage: gradlab"), out)
    for cmd in ("grad", "dot", "check", "render"):
        expect(re.search(r"^  %s " % cmd, out, re.M), "--help does not list " + cmd)
    rc, out, err = run("--version")
    expect_eq(rc, 0)
    expect(re.fullmatch(r"gradlab \d+\.\d+\.\d+\n", out), out)
    for cmd in ("check", "render", "dot"):
        rc, out, err = run(cmd, "--help")
        expect_eq(rc, 0, cmd)
        expect(out.startswith("usage: gradlab " + cmd), out)


def test_bom_cr_non_ascii():
    # Issue 8: a byte-order mark, old Mac line ends and names outside ASCII.
    path = os.path.join(TMP, "bom.prog")
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbfx = 2\r\nf = x * 5\r\n")
    rc, out, err = run("grad", path)
    expect_eq((rc, err), (0, ""))
    expect("f     10" in out, out)
    lesson = os.path.join(TMP, "bom.lesson")
    with open(lesson, "wb") as f:
        f.write(b"\xef\xbb\xbfgradlab-lesson: 1\rtitle: Old Mac\rprogram:\r    x = 2\r    f = x * 5\r"
                b"step: auto\rcheck: f == 10\rcheck: f == inf\r")
    rc, out, err = run("check", lesson)
    expect_eq(rc, 1, out + err)
    expect("ok 2 - bom: f == 10 (got 10)" in out and "not ok 3 - bom: f == inf (got 10)" in out, out)
    rc, out, err = run("grad", "-e", "x = 1; caf\u00e9 = x * 2")
    expect_eq(rc, 2)
    expect_eq(err, "-e:1:11: error: names are ASCII letters, digits and _; '\u00e9' is not allowed\n"
                   "    x = 1; caf\u00e9 = x * 2\n"
                   "              ^\n")


def test_loop_program():
    # Issue 9: the 10-step RNN of lessons/README.md, in tests/unit/rnn10.prog.
    path = os.path.join(os.environ["GRADLAB_DATA_DIR"], "tests", "unit", "rnn10.prog")
    rc, out, err = run("grad", "--json", path)
    expect_eq((rc, err), (0, ""))
    doc = json.loads(out)
    names = [v["name"] for v in doc["values"]]
    expect_eq(doc["output"], "loss")
    expect(names[:3] == ["x[0]", "x[1]", "x[2]"] and "h[10]" in names and "e[10]" in names, names)
    vals = {v["name"]: v for v in doc["values"]}
    h, loss, xs = 0.0, 0.0, [0.5, -0.1, 0.3, 0.8, -0.5, 0.2, 0.1, -0.3, 0.4, 0.9]
    ys = [0.2, 0.1, 0.2, 0.5, 0.0, 0.1, 0.1, -0.1, 0.2, 0.6]
    for t in range(10):
        h = math.tanh(0.5 * h + xs[t] + 0.1)
        loss += (h - ys[t]) ** 2
    expect(math.isclose(vals["h[10]"]["value"], h, rel_tol=1e-14), vals["h[10]"])
    expect(math.isclose(vals["loss"]["value"], loss / 10, rel_tol=1e-14), vals["loss"])
    rc, out, err = run("grad", "-e", "x = 9; p[0] = 1; for t in 1..3; p[t] = p[t-1] * sqrt(x) + pow(x, 2); end")
    expect_eq(rc, 0, err)
    expect("p[3]  1080                      1\n" in out, out)
    rc, out, err = run("dot", "-e", "x = 9; f = sqrt(x)")
    expect("\u221a" in out, out)
    rc, out, err = run("grad", "-e", "h[0] = 0; for t in 1..3; h[t] = h[t-2]; end")
    expect_eq(rc, 2)
    expect(err.startswith("-e:1:35: error: the index is -1 (at t = 1); indices go from 0 to 100000\n"), err)


def test_misspelt_command():
    # Issue 8: `gradlab grd` tried to open a lesson called grd.
    rc, out, err = run("grd", "-e", "f = 1")
    expect_eq(rc, 2)
    expect_eq(err, "gradlab: error: unknown command 'grd'; did you mean 'grad'?\n")
    rc, out, err = run("rendr", "1")
    expect_eq(err, "gradlab: error: unknown command 'rendr'; did you mean 'render'?\n")
    rc, out, err = run("frobnicate")
    expect_eq(rc, 2)
    expect_eq(err, "gradlab: error: 'frobnicate' is neither a command nor a lesson file; the commands are grad, "
                   "dot, check, render, model, train and bptt (see 'gradlab --help'), and a lesson is a .lesson "
                   "file or a number\n")
    # A file of that name is a lesson, whatever it is called.
    path = write("grd", "gradlab-lesson: 1\ntitle: T\nprogram:\n    f = 1\nstep: done\n")
    p = subprocess.run([os.path.abspath(GRADLAB), "grd"], capture_output=True, cwd=TMP,
                       env=dict(os.environ, SDL_VIDEODRIVER="dummy"))
    expect("unknown command" not in p.stderr.decode(), p.stderr.decode())


def test_no_display():
    # The GUI with no display: a clear error pointing at the headless commands.
    # X11 without DISPLAY cannot open a window anywhere, so this never hangs.
    rc, out, err = run(env={"SDL_VIDEODRIVER": "x11", "DISPLAY": None, "WAYLAND_DISPLAY": None})
    expect_eq(rc, 2)
    expect("gradlab check" in err and "gradlab render" in err, err)
    # The dummy driver shows nothing, so the GUI refuses it the same way.
    rc, out, err = run(env={"SDL_VIDEODRIVER": "dummy"})
    expect_eq(rc, 2)
    expect("gradlab check" in err and "gradlab render" in err, err)


ORDER = ["test_grad_text", "test_grad_json", "test_grad_file", "test_round_trip_digits", "test_round_numbers_plain",
         "test_reassigned_name",
         "test_nan_is_null_in_json", "test_grad_errors", "test_missing_file", "test_grad_usage_errors", "test_dot",
         "test_check", "test_check_failing", "test_check_too_many_arrays", "test_render", "test_render_errors",
         "test_help_version",
         "test_bom_cr_non_ascii", "test_loop_program", "test_misspelt_command", "test_no_display"]


def main():
    global GRADLAB, TMP
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    GRADLAB = sys.argv[1]
    if not os.access(GRADLAB, os.X_OK):
        print("# skip: %s is not an executable" % GRADLAB)
        return 77
    if not os.environ.get("GRADLAB_DATA_DIR"):
        os.environ["GRADLAB_DATA_DIR"] = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    tests = [globals()[n] for n in ORDER]
    missing = sorted(k for k in globals() if k.startswith("test_") and k not in ORDER)
    if missing:
        print("# test functions not in ORDER: " + ", ".join(missing))
        return 1
    failed = 0
    print("TAP version 13")
    with tempfile.TemporaryDirectory(prefix="gradlab-cli-") as tmp:
        TMP = tmp
        for i, t in enumerate(tests, 1):
            try:
                t()
                print("ok %d - %s" % (i, t.__name__))
            except Exception:
                failed += 1
                print("not ok %d - %s" % (i, t.__name__))
                for line in traceback.format_exc().splitlines():
                    print("# " + line)
    print("1..%d" % len(tests))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
