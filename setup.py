"""Build fastact's compiled part: one Cython module (the loop drivers) linked
with the C kernels, which are compiled once per ISA inside their own
translation units (src_c/fa_kern_*.c use `#pragma GCC target`), so no ISA
flag is ever applied to the whole build and one wheel runs on any x86-64.

OpenMP is detected by compiling and running a tiny program.  Set
FASTACT_REQUIRE_OPENMP=1 to make "no OpenMP" a build error (CI does), or
FASTACT_DISABLE_OPENMP=1 to build a serial extension on purpose.
"""
import os
import subprocess
import sys
import sysconfig
import tempfile
from glob import glob

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

OMP_TEST = r"""
#include <omp.h>
#include <stdio.h>
int main(void) {
    int n = 0;
    #pragma omp parallel reduction(+:n)
    n += 1;
    printf("%d\n", n);
    return n >= 1 ? 0 : 1;
}
"""


def _flag(name):
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _libomp_prefixes():
    found = [os.environ.get("LIBOMP_PREFIX", "")]
    try:
        found.append(subprocess.run(["brew", "--prefix", "libomp"], capture_output=True,
                                    text=True, timeout=60).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    found += ["/opt/homebrew/opt/libomp", "/usr/local/opt/libomp"]
    out = []
    for p in found:
        if p and os.path.isdir(os.path.join(p, "include")) and p not in out:
            out.append(p)
    return out


def openmp_flags(compiler):
    """Return (compile_args, link_args) for OpenMP, or None if it fails."""
    if sys.platform == "win32":
        return (["/openmp"], [])
    if sys.platform == "darwin":
        # Apple clang has no OpenMP runtime: use libomp (`brew install libomp`,
        # keg-only, so its prefix is added; LIBOMP_PREFIX overrides).
        candidates = [(["-Xpreprocessor", "-fopenmp", f"-I{p}/include"], [f"-L{p}/lib", "-lomp"])
                      for p in _libomp_prefixes()]
        candidates.append((["-Xpreprocessor", "-fopenmp"], ["-lomp"]))
    else:
        candidates = [(["-fopenmp"], ["-fopenmp"])]
    for cflags, lflags in candidates:
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "omp_test.c")
            exe = os.path.join(tmp, "omp_test")
            with open(src, "w") as f:
                f.write(OMP_TEST)
            cmd = compiler + cflags + [src, "-o", exe] + lflags
            try:
                subprocess.run(cmd, check=True, capture_output=True, timeout=120)
                subprocess.run([exe], check=True, capture_output=True, timeout=60)
            except (OSError, subprocess.SubprocessError):
                continue
            return cflags, lflags
    return None


class BuildExt(build_ext):
    def build_extensions(self):
        ctype = self.compiler.compiler_type
        cc = list(getattr(self.compiler, "compiler_so", None) or [sysconfig.get_config_var("CC") or "cc"])
        omp = None
        if not _flag("FASTACT_DISABLE_OPENMP"):
            omp = openmp_flags(cc[:1] if ctype != "msvc" else ["cl"])
        if omp is None and _flag("FASTACT_REQUIRE_OPENMP"):
            raise RuntimeError(
                "fastact: OpenMP is required (FASTACT_REQUIRE_OPENMP=1) but a test "
                "program with -fopenmp did not compile and run; install libgomp/libomp")
        for ext in self.extensions:
            if ctype == "msvc":
                ext.extra_compile_args += ["/O2", "/fp:precise"]
            else:
                # -ffp-contract=off: FMAs only where written (FA_FMA), so the
                #   vector body and the scalar remainder agree bitwise.
                # -fno-math-errno / -fno-trapping-math: let loops vectorise;
                #   no result changes (no -ffast-math: NaN/inf must survive).
                # -fopenmp-simd: `omp simd` loops vectorise even in a serial build.
                ext.extra_compile_args += ["-O3", "-ffp-contract=off", "-fno-math-errno",
                                           "-fno-trapping-math", "-fopenmp-simd", "-std=gnu11"]
            if omp is not None:
                ext.extra_compile_args += omp[0]
                ext.extra_link_args += omp[1]
        print(f"fastact: OpenMP {'enabled' if omp else 'DISABLED'}")
        super().build_extensions()


ext = Extension(
    "fastact._ext",
    sources=["fastact/_ext.pyx"] + sorted(glob("src_c/*.c")),
    include_dirs=["src_c", np.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    depends=sorted(glob("src_c/*.h")),
)

setup(
    ext_modules=cythonize([ext], compiler_directives={"language_level": "3"}),
    cmdclass={"build_ext": BuildExt},
)
