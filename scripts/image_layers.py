"""Print an image's uncompressed size and its layers, largest first, from `buildah inspect --type image`.

    buildah inspect --type image tasklane-api:0.1.0 | python3 scripts/image_layers.py

A layer is named by the instructions that made it (a build without --layers makes one layer per stage).
Standard library only: scripts/images.sh runs it with the host's python3.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

SHOWN = 3
NOISE = re.compile(r"^(ARG|ENV|WORKDIR|USER|EXPOSE|STOPSIGNAL|CMD|LABEL)\b")


def _instruction(created_by: str) -> str:
    text = re.sub(r"^\|\d+ (\S+=\S* )*", "", created_by)  # build-arg prefix of RUN steps
    text = text.removeprefix("/bin/sh -c ").removeprefix("#(nop) ").strip()
    text = re.sub(r"\s+", " ", re.sub(r"(file|dir):[0-9a-f]+ in ", "", text))
    if not re.match(r"^[A-Z]+ ", text):
        text = f"RUN {text}"
    return text if len(text) <= 48 else text[:47] + "…"


def layers(inspect: dict[str, Any]) -> list[tuple[int, str]]:
    """(size, what made it) for each layer; the base image's layers come before the first entry whose
    comment says which base the build started from."""
    sizes = [int(layer["size"]) for layer in json.loads(inspect["Manifest"])["layers"]]
    history = inspect["OCIv1"].get("history", [])
    ours_from = next(
        (i for i, entry in enumerate(history) if (entry.get("comment") or "").startswith("FROM ")), 0
    )
    base = (history[ours_from].get("comment") or "FROM ?").removeprefix("FROM ") if history else "?"
    named: list[str] = []
    steps: list[str] = []
    for index, entry in enumerate(history):
        instruction = _instruction(entry.get("created_by", ""))
        if not NOISE.match(instruction):
            steps.append(instruction)
        if entry.get("empty_layer"):
            continue
        if index < ours_from:
            named.append(f"base image {base}")
        else:
            named.append("; ".join(steps) or f"metadata only ({instruction.split(' ')[0]})")
        steps = []
    named += ["?"] * (len(sizes) - len(named))
    return sorted(zip(sizes, named, strict=False), reverse=True)


def main() -> None:
    inspect = json.load(sys.stdin)
    found = layers(inspect)
    total = sum(size for size, _ in found)
    print(f"  size {total / 1e6:.1f} MB uncompressed, {len(found)} layers; largest:")
    for size, name in found[:SHOWN]:
        print(f"  {size / 1e6:8.1f} MB  {name[:110]}")


if __name__ == "__main__":
    main()
