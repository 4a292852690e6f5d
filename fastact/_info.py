"""Build/runtime facts for show_config() and `python -m fastact info`."""
from __future__ import annotations

import os
import platform
from typing import List


def openmp_runtime() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (install threadpoolctl to see it)"
    libs = [i for i in threadpool_info() if i.get("user_api") == "openmp"]
    return ", ".join(f"{i['internal_api']} {i.get('version') or ''} ({i['filepath']})".replace("  ", " ")
                     for i in libs) or "none loaded"


def cpu_name() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), or what platform knows.
    Benchmark figures depend on it: the same SIMD path runs at different
    speeds on different cores (AVX-512 on Zen 4 splits each 512-bit
    operation in two; conversions and vscalefpd cost 2 cycles there)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def config_lines() -> List[str]:
    from . import __version__, _api, get_num_threads
    ext = _api._ext
    lines = [f"fastact {__version__}  (Python {platform.python_version()}, {platform.machine()}, "
             f"{cpu_name()}, {os.cpu_count()} CPUs)"]
    if ext is None:
        lines.append("compiled extension: NOT AVAILABLE (only backend='numpy' works)")
        return lines
    isas = [i for i in ("baseline", "avx2", "avx512") if ext.isa_supported(i)]
    forced = os.environ.get("FASTACT_ISA")
    lines += [
        f"SIMD path: {ext.current_isa()}  (supported here: {', '.join(isas)}"
        f"{'; forced by FASTACT_ISA' if forced else ''})",
        f"OpenMP: {'enabled' if ext.openmp_enabled() else 'DISABLED (serial build)'}; runtime: {openmp_runtime()}",
        f"threads: {get_num_threads()}  (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})",
    ]
    return lines
