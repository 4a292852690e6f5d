"""Side-by-side throughput of fastact, its NumPy reference and the peers.

    python bench/compare.py [names ...] [--sizes N ...] [--dtype float32|float64]
                            [--threads T ...] [--repeats R] [--json FILE] [--markdown]

A thin wrapper: the engine lives in the package (``fastact._bench``, peers in
``fastact._peers``) so that an installed fastact can run it as
``fastact bench``; the options are the same (``--help`` lists them).
"""
import sys

from fastact._bench import *  # noqa: F401,F403  (re-exported for scripts importing bench.compare)
from fastact._bench import main as _main


def main(argv=None):
    return _main(argv, prog="bench/compare.py")


if __name__ == "__main__":
    sys.exit(main())
