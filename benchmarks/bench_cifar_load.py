"""How long ``cifar10.load_data()`` takes: the first load (for ``cifar10-jpeg.zip``, decoding
60,000 JPEGs and writing the cache) and later loads (from the cache, or re-reading a tarball).

Each load runs in its own fresh interpreter, so the timings do not include ``import shenjing``
and a later load gets no help from objects kept in memory (only the OS page cache, as in real
use). The script clears its own cache folder first, so the first load is really a first load.

    python benchmarks/bench_cifar_load.py --data ../shared/data [--repeats 3] [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

_WORKER = """
import json, time
from shenjing.datasets import cifar10
t = time.perf_counter()
(x_train, y_train), (x_test, y_test) = cifar10.load_data({data!r})
seconds = time.perf_counter() - t
print(json.dumps({{"seconds": seconds, "source": str(cifar10._find({data!r}).name),
                  "shapes": [x_train.shape, y_train.shape, x_test.shape, y_test.shape]}}))
"""


def _load_once(data: str, cache: str) -> dict:
    env = dict(os.environ, SHENJING_CACHE=cache, SHENJING_OFFLINE="1")
    out = subprocess.run([sys.executable, "-c", _WORKER.format(data=data)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="folder holding a CIFAR-10 archive")
    parser.add_argument("--repeats", type=int, default=3, help="cached loads to time")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(),
                                                        "shenjing-bench-cifar-cache"),
                        help="cache folder used (and cleared) by this benchmark")
    args = parser.parse_args()

    shutil.rmtree(args.cache, ignore_errors=True)
    first = _load_once(args.data, args.cache)
    later = [_load_once(args.data, args.cache)["seconds"] for _ in range(args.repeats)]
    print(f"source: {first['source']}  shapes: {first['shapes']}  cpus: {os.cpu_count()}")
    print(f"first load:  {first['seconds']:.2f} s")
    print(f"cached load: {statistics.median(later):.2f} s (median of {len(later)}: "
          f"{', '.join(f'{s:.2f}' for s in later)})")
    shutil.rmtree(args.cache, ignore_errors=True)


if __name__ == "__main__":
    main()
