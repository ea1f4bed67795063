"""`pib cpv evaluate` (the classifier measured on notices it has not seen) and `pib cpv train --out FILE`.

The `cpv` group is made here; pib/cli_cpv_admin.py adds the commands of the models in service to it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer


def _progress() -> Any:
    started = time.monotonic()

    def say(message: str) -> None:
        typer.echo(f"[{time.monotonic() - started:5.0f}s] {message}", err=True)

    return say


def _examples(store: int) -> list[Any]:
    from watch.cpv.corpus import shipped_examples, store_examples

    examples = shipped_examples()
    if store:
        from pib.db import ready_engine

        examples += store_examples(ready_engine(), limit=store)
    return examples


def _percent(value: float) -> str:
    return f"{100 * value:5.1f}"


def render(evaluation: Any) -> str:
    """The evaluation as a readable report."""
    lines = [
        f"CPV classifier: trained on {evaluation.train_examples:,} examples in {evaluation.training_seconds:.0f}s, "
        f"tested on {evaluation.test_examples:,} examples of other notices (split by notice)",
        f"routing threshold {evaluation.threshold:.2f}: a firm watching a division gets a notice when the division "
        "is inferred at least this sure",
        "",
        "language  examples notices  div@1  div@3  div F1  group F1  routing P  routing R",
    ]
    for name, figures in evaluation.by_language.items():
        lines.append(
            f"{name:<8} {figures.examples:>9,} {figures.notices:>7,} {_percent(figures.accuracy_at_1)}% "
            f"{_percent(figures.accuracy_at_3)}% {_percent(figures.division_f1)}%   {_percent(figures.group_f1)}%"
            f"     {_percent(figures.routing_precision)}%     {_percent(figures.routing_recall)}%"
        )
    lines += ["", "calibration (division confidences):  bin        codes   mean confidence  share right"]
    for row in evaluation.calibration:
        if row.count:
            lines.append(
                f"{'':37}{row.low:.1f}-{row.high:.1f} {row.count:>9,}   {_percent(row.mean_confidence)}%"
                f"          {_percent(row.right)}%"
            )
    lines += ["", "routing at other thresholds (all languages): threshold  precision  recall  F1"]
    for row in evaluation.routing_by_threshold:
        lines.append(
            f"{'':45}{row['threshold']:.2f}    {_percent(row['precision'])}%  {_percent(row['recall'])}%"
            f" {_percent(row['f1'])}%"
        )
    return "\n".join(lines)


def evaluate(
    test_share: Annotated[float, typer.Option("--test-share", help="Share of the notices held out.")] = 0.2,
    seed: Annotated[int, typer.Option("--seed", help="Which split (the same seed, the same split).")] = 12,
    store: Annotated[
        int, typer.Option("--store", help="Also learn from (and test on) the latest N coded notices of the store.")
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="The figures as JSON.")] = False,
) -> None:
    """Train on most notices of the shipped corpus, measure on the others, per language."""
    from watch.cpv.evaluate import evaluate as run

    if not 0 < test_share < 1:
        typer.echo("--test-share is a share between 0 and 1 (0.2: a fifth of the notices)", err=True)
        raise typer.Exit(2)
    evaluation = run(_examples(store), test_share=test_share, seed=seed, progress=_progress())
    if as_json:
        json.dump(evaluation.as_dict(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        typer.echo(render(evaluation))


def train(
    out: Annotated[Path, typer.Option("--out", help="Where to write the trained model.")],
    store: Annotated[int, typer.Option("--store", help="Also learn from the latest N coded notices of the store.")] = 0,
) -> None:
    """Train on the whole shipped corpus and write the model to a file."""
    from watch.cpv.model import CpvClassifier

    model = CpvClassifier.train(_examples(store), progress=_progress())
    data = model.to_bytes()
    out.write_bytes(data)
    typer.echo(f"{out}: a model trained on {model.trained_on:,} examples ({len(data) / 1e6:.1f} MB)", err=True)


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="CPV codes inferred from notices' text.", no_args_is_help=True)
    group.command("evaluate")(evaluate)
    group.command("train")(train)
    app.add_typer(group, name="cpv")
