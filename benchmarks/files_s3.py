"""Users' files in a folder against the same in an S3 bucket (moto's S3 server on loopback).

Two ``ondemand serve`` processes, one keeping users' files in a folder and one in a
bucket, get the same requests in the same run: a big upload (streamed by the client in
1 MiB chunks), its download, ``--small`` small uploads, a listing. Prints the seconds of
each step for both, the bucket/folder ratio, and each server's RSS growth during the big
upload (sampled every 10 ms): a bucket upload is sent in 5 MiB parts, never held whole.
moto keeps objects in its own Python process's memory: the ratios measure this server's
overhead plus moto's, not AWS's.

    python benchmarks/files_s3.py [--mib 64] [--small 50]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
from affine import Affine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import Server, rss_bytes, running_server  # noqa: E402
from tests.support.cogs import make_collection  # noqa: E402
from tests.support.s3 import CREDENTIALS, new_bucket, s3_server  # noqa: E402

MIB = 1024 * 1024


def seconds(step: Callable[[], object]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def chunks(total: int) -> Iterator[bytes]:
    block = bytes(np.random.default_rng(1).integers(0, 256, MIB, dtype=np.uint8))
    for _ in range(total // MIB):
        yield block


def peak_growth(pid: int, step: Callable[[], object]) -> tuple[float, float]:
    """Seconds of ``step`` and the server's peak RSS growth (MiB) meanwhile."""
    base, peak, done = rss_bytes(pid), [rss_bytes(pid)], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes(pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        took = seconds(step)
    finally:
        done.set()
        sampler.join()
    return took, (peak[0] - base) / MIB


def run(server: Server, mib: int, small: int) -> dict[str, float]:
    """Seconds of each step against one server, and its RSS growth in the big upload."""
    with httpx.Client(base_url=server.url, timeout=600) as http:
        put = http.put("/files/me/warm.json", content=b"{}")  # first-request costs
        assert put.status_code == 204, put.text
        upload, growth = peak_growth(server.pid, lambda: http.put(
            "/files/me/big.bin", content=chunks(mib * MIB)).raise_for_status())
        out = {
            "big upload": upload,
            "upload RSS growth MiB": growth,
            "big download": seconds(lambda: http.get("/files/me/big.bin").raise_for_status()),
            f"{small} small uploads": seconds(lambda: [
                http.put(f"/files/me/s/{i}.json", content=b'{"a": %d}' % i).raise_for_status()
                for i in range(small)
            ]),
            "listing": seconds(lambda: http.get("/files/me").raise_for_status()),
        }
        assert len(http.get("/files/me").json()) == small + 2
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--small", type=int, default=50)
    args = parser.parse_args()
    os.environ.update(CREDENTIALS)
    os.environ["ONDEMAND_MAX_FILE_BYTES"] = str((args.mib + 1) * MIB)
    os.environ["ONDEMAND_USER_QUOTA_BYTES"] = str(4 * args.mib * MIB)
    with tempfile.TemporaryDirectory() as tmp, s3_server() as endpoint:
        root = Path(tmp)
        band = (np.ones((4, 4), dtype=np.uint16), 0.0, 1.0, 0.0)
        catalog = make_collection(root / "tiny", [("i1", datetime(2020, 1, 1, tzinfo=UTC),
                                                   {"B1": band})], 32633,
                                  Affine(10, 0, 500000, 0, -10, 5000000))
        bucket = new_bucket(endpoint, "bench")
        common = ("--catalog", str(catalog))
        with running_server(root / "f", *common) as server:
            local = run(server, args.mib, args.small)
        files_dir = f"s3://{bucket}/u?endpoint_url={endpoint}"
        with running_server(root / "b", *common, "--files-dir", files_dir) as server:
            remote = run(server, args.mib, args.small)
    print(f"{'step':<22} {'folder':>9} {'bucket':>9} {'ratio':>6}   (seconds unless MiB)")
    for step, value in local.items():
        ratio = f"{remote[step] / value:6.1f}" if value > 0.001 else "     -"
        print(f"{step:<22} {value:>9.3f} {remote[step]:>9.3f} {ratio}")
    print(f"the big file is {args.mib} MiB")


if __name__ == "__main__":
    main()
