"""Static profile of the AVX-512 float32 forward kernels: the instructions
of each kernel's hot loop (objdump of the built extension) per element,
beside its measured time per element, so that a speed figure can be read as
"N instructions per element at M per cycle" (issue 6: for a missed target,
the profile and the reason).

    python bench/loop_profile.py [NAMES ...] [--n 262144] [--repeats 7]

The hot loop is the first body closed by a backward conditional jump in
the kernel's symbol with at least 8 zmm instructions (the main loop comes
first; the later loops are the masked tail and the loops around them).  Elements per iteration come from the kernel family:
the double-lane kernels (FA_V512_UNARY, src_c/fa_v512_f32.h) take 32 floats
per iteration, the float-lane ones (FA_V16_BINARY) 64.  Cycles are counted
at the TSC clock that /proc/cpuinfo reports ("cpu MHz"): on a machine that
boosts above it, "instructions per cycle" is an upper bound.  The machine
this was written on (Sapphire Rapids class) issues at most two 512-bit FP
operations per cycle (ports 0 and 5), so a loop of zmm arithmetic that runs
at ~2 instructions per cycle is bound by them: it can only get faster with
fewer instructions.  Linux with binutils' objdump and nm; the AVX-512 path.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time

import numpy as np

# elements per hot-loop iteration by kernel family (see the docstring)
FLOAT_LANE = {"relu", "relu6", "hardtanh", "leaky_relu", "hardswish", "softsign"}
DEFAULT = ["sigmoid", "tanh", "silu", "swish", "gelu", "gelu_tanh", "elu", "softplus", "log_sigmoid",
           "mish", "hard_sigmoid", "softsign", "relu", "hardswish"]


def symbols(so: str) -> dict:
    out = {}
    for line in subprocess.run(["nm", so], capture_output=True, text=True, check=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            out.setdefault(parts[2].split(".")[0], (int(parts[0], 16), parts[2]))
    return out


def hot_loop(so: str, addr: int) -> list:
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--start-address={addr}",
                          f"--stop-address={addr + 40000}", so], capture_output=True, text=True,
                         check=True).stdout
    ins = []
    for line in dis.splitlines():
        m = re.match(r"\s+([0-9a-f]+):\s+(\S+)\s*(.*)", line)
        if m:
            ins.append((int(m.group(1), 16), m.group(2), m.group(3)))
        elif ins and re.match(r"[0-9a-f]+ <", line):     # the next symbol
            break
    for a, op, arg in ins:
        if op.startswith("j") and op != "jmp":
            t = re.match(r"([0-9a-f]+)", arg)
            if t and int(t.group(1), 16) < a:
                body = [x for x in ins if int(t.group(1), 16) <= x[0] <= a]
                if sum("zmm" in x[2] for x in body) >= 8:
                    return body
    return []


def tsc_mhz() -> float:
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("cpu MHz"):
                return float(line.split(":")[1])
    raise RuntimeError("no 'cpu MHz' in /proc/cpuinfo")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=DEFAULT)
    ap.add_argument("--n", type=int, default=262144)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args(argv)
    import fastact
    from fastact import _ext
    if _ext.current_isa() != "avx512":
        print("loop_profile: needs the AVX-512 path (this machine runs "
              f"{_ext.current_isa()})", file=sys.stderr)
        return 2
    so = _ext.__file__
    syms = symbols(so)
    mhz = tsc_mhz()
    x = (np.random.default_rng(0).standard_normal(args.n) * 3).astype(np.float32)
    out = np.empty_like(x)
    print(f"# fastact {fastact.__version__}, float32, n = {args.n}, 1 thread, median of {args.repeats}; "
          f"cycles at the TSC clock ({mhz:.0f} MHz)")
    print(f"{'function':14s} {'kernel':34s} {'insn/elem':>9s} {'zmm/elem':>9s} {'ns/elem':>8s} "
          f"{'cyc/elem':>8s} {'insn/cyc':>8s}")
    with fastact.threads(1):
        for name in args.names:
            sym = f"fa_v512_{name}_f32" + ("_b" if name in FLOAT_LANE else "")
            if sym not in syms:
                print(f"{name:14s} (no AVX-512 float32 kernel {sym})")
                continue
            body = hot_loop(so, syms[sym][0])
            per = 64 if name in FLOAT_LANE else 32
            if name == "gelu_tanh":            # a kernel of its own, the API's gelu(approximate="tanh")
                f = lambda v, out: fastact.gelu(v, approximate="tanh", out=out)
            else:
                f = getattr(fastact, name)
            f(x, out=out)
            k = max(1, int(0.02 / max(1e-7, args.n * 1e-9)))
            ts = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                for _ in range(k):
                    f(x, out=out)
                ts.append((time.perf_counter() - t0) / k)
            ns = float(np.median(ts)) / args.n * 1e9
            cyc = ns * mhz / 1e3
            zmm = sum("zmm" in a for _, _, a in body)
            print(f"{name:14s} {syms[sym][1]:34s} {len(body) / per:9.2f} {zmm / per:9.2f} {ns:8.3f} "
                  f"{cyc:8.2f} {len(body) / per / cyc:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
