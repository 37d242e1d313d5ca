"""How fast `headwater local up` gets a broker answering over mTLS from a warm jar cache.

Target (issue 2): under 30 s. Machines here are noisy, so every figure is also printed as a ratio
against a baseline measured in the same run: a bare JVM start on the same classpath
(`kafka.Kafka --version`), i.e. what no amount of work on headwater's side could remove.

    .venv/bin/python benchmarks/broker_startup.py [--runs 3]
"""

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from headwater.config import LocalSettings
from headwater.local.broker import LocalBroker
from headwater.local.java import find_java
from headwater.local.kafka_jars import ensure_kafka_jars

TARGET_S = 30.0


def bare_jvm_seconds(lib_dir: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(find_java()), "-cp", f"{lib_dir}/*", "kafka.Kafka", "--version"], capture_output=True, check=True
    )
    return time.perf_counter() - started


def broker_up_seconds(state_dir: Path) -> float:
    broker = LocalBroker(LocalSettings(state_dir=state_dir, kafka_port=0, controller_port=0))
    started = time.perf_counter()
    status = broker.up()
    elapsed = time.perf_counter() - started
    assert status.answering, "broker did not answer"
    broker.down()
    return elapsed


def main() -> None:
    # Imported here: run as a script, benchmarks/ is on sys.path; tests import this module from the root.
    from smoke import parse_arguments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parse_arguments(parser, runs=1).runs
    console = Console()
    settings = LocalSettings()
    lib_dir = ensure_kafka_jars(settings.cache_dir, settings.kafka_version, console.print)

    baseline, fresh, restart = [], [], []
    with tempfile.TemporaryDirectory(prefix="headwater-bench-") as folder:
        for run in range(runs):
            baseline.append(bare_jvm_seconds(lib_dir))
            state_dir = Path(folder) / f"run-{run}"
            fresh.append(broker_up_seconds(state_dir))  # new CA, certificates, format, start
            restart.append(broker_up_seconds(state_dir))  # formatted folder, certificates reused
            console.print(
                f"run {run + 1}/{runs}: jvm {baseline[-1]:.2f} s, fresh {fresh[-1]:.2f} s, restart {restart[-1]:.2f} s"
            )

    base = statistics.median(baseline)
    table = Table("measure", "median s", "max s", "ratio to bare JVM", f"target < {TARGET_S:.0f} s")
    table.add_row("bare JVM (kafka.Kafka --version)", f"{base:.2f}", f"{max(baseline):.2f}", "1.00", "-")
    for name, values in (("local up, fresh state folder", fresh), ("local up, existing state folder", restart)):
        verdict = "[green]met[/]" if max(values) < TARGET_S else "[red]missed[/]"
        table.add_row(
            name,
            f"{statistics.median(values):.2f}",
            f"{max(values):.2f}",
            f"{statistics.median(values) / base:.2f}",
            verdict,
        )
    console.print(table)


if __name__ == "__main__":
    main()
