"""Open-loop load at a fixed rate, in its own process: `python -m benchmarks.loadgen URL BODIES ...`.

Request i is due at start + i/rate whether or not earlier ones have answered, and its latency counts from
that due time, so a server that falls behind shows its queueing instead of hiding it (no coordinated
omission). Prints one JSON line: latencies in milliseconds and the achieved rate.

Requests come from a file of lines `Header: value|Header: value<TAB>body` (see ``request_line``), each sent
once, in order; ``wrk_requests.lua`` reads the same file for saturation runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp


def request_line(headers: dict[str, str], body: str) -> str:
    """One request of a requests file (headers must not hold `|` or a tab)."""
    return "|".join(f"{name}: {value}" for name, value in headers.items()) + "\t" + body + "\n"


def _parse(line: str) -> tuple[dict[str, str], bytes]:
    headers, body = line.split("\t", 1)
    pairs = (pair.split(":", 1) for pair in headers.split("|") if pair)
    return {"Content-Type": "application/json", **{n.strip(): v.strip() for n, v in pairs}}, body.encode()


async def run(
    url: str, bodies: list[tuple[dict[str, str], bytes]], rate: float, duration: float, warmup: int
) -> dict[str, float]:
    count = int(rate * duration)
    if warmup + count > len(bodies):
        raise SystemExit(f"need {warmup + count} distinct bodies, have {len(bodies)}")
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as client:
        # Warm the connection pool so the first requests do not pay for connecting.
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        await asyncio.gather(*(client.get(f"{origin}/healthz") for _ in range(16)))
        # Then warm the server's own first-use costs (its database connection, caches) off the clock.
        for headers, body in bodies[:warmup]:
            async with client.post(url, data=body, headers=headers) as response:
                await response.read()
        bodies = bodies[warmup:]
        start = time.perf_counter() + 0.2

        async def one(i: int) -> None:
            nonlocal errors
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            headers, body = bodies[i]
            async with client.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status >= 300:
                    errors += 1
            latencies.append((time.perf_counter() - due) * 1000)

        await asyncio.gather(*(one(i) for i in range(count)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "requests": count,
        "errors": errors,
        "rate": count / elapsed,
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "max": latencies[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("bodies", type=Path, help="a requests file (see request_line)")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--skip", type=int, default=0, help="start at this line (keep events unique)")
    parser.add_argument("--warmup", type=int, default=0, help="unmeasured requests sent first, one by one")
    args = parser.parse_args()
    lines = args.bodies.read_text().splitlines()[args.skip :]
    bodies = [_parse(line) for line in lines]
    print(json.dumps(asyncio.run(run(args.url, bodies, args.rate, args.duration, args.warmup))))


if __name__ == "__main__":
    main()
