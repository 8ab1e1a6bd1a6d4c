"""Run every benchmarks/bench_*.py in turn; each writes its JSON into benchmarks/results/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--skip", nargs="*", default=[], metavar="NAME", help="e.g. bench_pmi.py")
    args = p.parse_args(argv)
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        if script.name in args.skip or script.stem in args.skip:
            print(f"== {script.name}: skipped", flush=True)
            continue
        print(f"== {script.name}", flush=True)
        rc = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        if rc:
            failed.append(script.name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
