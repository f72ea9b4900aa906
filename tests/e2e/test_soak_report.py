"""The soak's closing figures and plot, from samples and locust's stats history as a real run leaves them."""

from __future__ import annotations

import csv
from pathlib import Path

from loadtest.run import soak_report

HISTORY_FIELDS = ["Timestamp", "User Count", "Type", "Name", "Requests/s", "99%", "Total Request Count"]


def test_the_soak_report_gives_growth_after_warm_up_and_draws_the_plot(tmp_path: Path) -> None:
    with (tmp_path / "locust_stats_history.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=HISTORY_FIELDS)
        writer.writeheader()
        # As locust starts: no request has answered yet, so its percentiles are N/A.
        writer.writerow(
            dict(zip(HISTORY_FIELDS, ["1000", "0", "", "Aggregated", "0", "N/A", "0"], strict=True))
        )
        for second in range(1, 600):
            row = [str(1000 + second), "20", "", "Aggregated", "37.5", "55", str(second * 37)]
            writer.writerow(dict(zip(HISTORY_FIELDS, row, strict=True)))
    samples = [
        {"minute": m, "rss_api": 300.0 + (m >= 2) * 10 + m, "rss_beat": 80.0, "queue_reports": m % 3,
         "outbox": 0, "reconciled": 0, "errors": 0}
        for m in range(1, 11)
    ]  # fmt: skip

    text = soak_report(samples, tmp_path)

    # Warm-up is the first fifth (2 of 10 samples): growth counts from minute 2 (312 MB) to 10 (320 MB).
    assert "after warm-up at minute 2" in text
    assert "api                             312.0    320.0     2.6%" in text
    assert "beat                             80.0     80.0     0.0%" in text
    assert "deepest queues: {'reports': 2}" in text
    assert (tmp_path / "soak.png").read_bytes().startswith(b"\x89PNG")
    assert len((tmp_path / "soak.csv").read_text().splitlines()) == 11
