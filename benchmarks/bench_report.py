"""Medians, the three ratios of issue 3 item 7 against their targets, gVisor's cost, the table and the JSON file."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from bench_measure import Sample

# Keys of the measurements, in the order the table shows them.
FLOOR, INSTANT, INCIDENT, DELAYED_ONE, DELAYED_SIX = "a", "b", "c", "d1", "d"
FLOOR_GVISOR, INSTANT_GVISOR = "a-runsc", "b-runsc"
LABELS = {
    FLOOR: 'floor: docker run --rm IMAGE python3 -c "import anthropic"',
    INSTANT: "wave-sandbox run, 1 step, model answers at once",
    FLOOR_GVISOR: "the floor (a) with --runtime runsc",
    INSTANT_GVISOR: "(b) with --runtime runsc",
    INCIDENT: "wave-sandbox run incident-response, 5 steps, scripted",
    DELAYED_ONE: "wave-sandbox run, 1 step, 3 turns of delay_s 2",
    DELAYED_SIX: "wave-sandbox run, 6 such steps, --max-parallel 6",
}
INCIDENT_STEP_COUNT = 5


@dataclass
class Measurement:
    key: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def walls(self) -> list[float]:
        return [sample.wall_s for sample in self.samples]

    @property
    def median_s(self) -> float:
        return statistics.median(self.walls)

    @property
    def median_in_run_s(self) -> float | None:
        in_run = [sample.in_run_ms for sample in self.samples if sample.in_run_ms is not None]
        return statistics.median(in_run) / 1000 if in_run else None


@dataclass(frozen=True)
class Ratio:
    name: str
    value: float
    target: float | None
    """None: measured and shown, with no target to pass (gVisor's cost)."""

    @property
    def passed(self) -> bool | None:
        return None if self.target is None else self.value <= self.target


def compute_ratios(measurements: dict[str, Measurement]) -> list[Ratio]:
    """b/a <= 1.2 (issue 10; 1.5 before), c/(5a) <= 1.5, d/(one such step) <= 1.6, all on medians."""
    floor = measurements[FLOOR].median_s
    ratios = [Ratio("b/a", measurements[INSTANT].median_s / floor, 1.2)]
    if INCIDENT in measurements:  # left out by --startup-only
        ratios.append(Ratio("c/(5a)", measurements[INCIDENT].median_s / (INCIDENT_STEP_COUNT * floor), 1.5))
    if DELAYED_SIX in measurements:
        ratios.append(Ratio("d/(one such step)",
                            measurements[DELAYED_SIX].median_s / measurements[DELAYED_ONE].median_s, 1.6))
    return ratios + gvisor_ratios(measurements)


def gvisor_ratios(measurements: dict[str, Measurement]) -> list[Ratio]:
    """A step's start-up under runsc against runc, and against the raw `docker run` floors (no targets)."""
    if INSTANT_GVISOR not in measurements:
        return []
    step_gvisor, floor_gvisor = measurements[INSTANT_GVISOR].median_s, measurements[FLOOR_GVISOR].median_s
    return [
        Ratio("b-runsc/b", step_gvisor / measurements[INSTANT].median_s, None),
        Ratio("b-runsc/a", step_gvisor / measurements[FLOOR].median_s, None),
        Ratio("b-runsc/a-runsc", step_gvisor / floor_gvisor, None),
        Ratio("a-runsc/a", floor_gvisor / measurements[FLOOR].median_s, None),
    ]


def render_table(measurements: dict[str, Measurement], ratios: list[Ratio], header: str) -> str:
    label_width = max(len(f"({key}) {label}") for key, label in LABELS.items())
    lines = [header, ""]
    lines.append(f"{'measurement':<{label_width}}  {'median':>8}  {'min':>8}  {'max':>8}  {'in run':>8}")
    for key, measurement in measurements.items():
        in_run = measurement.median_in_run_s
        lines.append(
            f"{f'({key}) {LABELS[key]}':<{label_width}}  {seconds(measurement.median_s):>8}  "
            f"{seconds(min(measurement.walls)):>8}  {seconds(max(measurement.walls)):>8}  "
            f"{seconds(in_run) if in_run is not None else '-':>8}"
        )
    lines += ["", f"{'ratio':<20}  {'value':>6}  {'target':>8}  result"]
    for ratio in ratios:
        verdict = {True: "PASS", False: "MISS", None: "measured"}[ratio.passed]
        target = "-" if ratio.target is None else f"<= {ratio.target:.1f}"
        lines.append(f"{ratio.name:<20}  {ratio.value:>6.2f}  {target:>8}  {verdict}")
    lines += ["", "median, min, max: wall time of the whole process; in run: the run's own duration_ms (median)."]
    return "\n".join(lines)


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def results_document(measurements: dict[str, Measurement], ratios: list[Ratio], context: dict) -> dict:
    return {
        **context,
        "measurements": {
            key: {
                "label": LABELS[key],
                "median_s": round(measurement.median_s, 3),
                "min_s": round(min(measurement.walls), 3),
                "max_s": round(max(measurement.walls), 3),
                "samples_s": [round(wall, 3) for wall in measurement.walls],
                "median_in_run_s": measurement.median_in_run_s,
                "run_ids": [sample.run_id for sample in measurement.samples if sample.run_id],
            }
            for key, measurement in measurements.items()
        },
        "ratios": [
            {"name": r.name, "value": round(r.value, 3), "target": r.target, "passed": r.passed} for r in ratios
        ],
    }


def write_results(path: Path, document: dict) -> None:
    """Write the JSON; the results folder ignores itself, as .wave/runs/ does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ignore_marker = path.parent / ".gitignore"
    if not ignore_marker.exists():
        ignore_marker.write_text("*\n")
    path.write_text(json.dumps(document, indent=2) + "\n")
