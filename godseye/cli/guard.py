"""`godseye guard` commands: score any text set, retrain the learned layer, manage blocks."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.table import Table

from godseye.netguard import install_if_requested

app = typer.Typer(help="Prompt-injection scoring, training and the block list.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")]


def score_lines(lines: TextIO, out: TextIO, *, indirect: bool = False) -> tuple[int, int]:
    """Score JSON Lines `{"text": ...}`; write `{"score","verdict","reasons"}` per line.

    A line that is not a JSON object with a string "text" gets `{"error": ..., "line": n}` and the
    run goes on: one bad row must not lose the rest of a data set. An "id" field is passed through.
    Returns (scored, errors).
    """
    from guardrails.injection import get_detector

    detector = get_detector()
    scored = errors = 0
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except ValueError as exc:
            record: dict = {"error": f"not JSON: {exc.msg}", "line": n}
        else:
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                record = {"error": 'expected an object with a string "text" field', "line": n}
            else:
                record = detector.score(row["text"], indirect=indirect).as_dict()
                if "id" in row:
                    record = {"id": row["id"], **record}
        if "error" in record:
            errors += 1
        else:
            scored += 1
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    return scored, errors


@app.command("score")
def score(
    file: Annotated[Path | None, typer.Option("--file", "-f", help="JSON Lines file (default: stdin).")] = None,
    indirect: Annotated[bool, typer.Option(help="Also apply the rules for instructions hidden in data.")] = False,
) -> None:
    """Score JSON Lines {"text": ...} from stdin or --file; print {"score","verdict","reasons"} per line."""
    install_if_requested()
    if file is not None and not file.is_file():
        typer.echo(f"error: no such file: {file}", err=True)
        raise typer.Exit(2)
    stream = file.open("r", encoding="utf-8", errors="replace") if file else sys.stdin
    try:
        scored, errors = score_lines(stream, sys.stdout, indirect=indirect)
    finally:
        if file:
            stream.close()
    typer.echo(f"scored {scored} line(s), {errors} error(s)", err=True)


@app.command("train")
def train(
    data_dir: Annotated[Path | None, typer.Option(help="Reference data root (default ../shared/data).")] = None,
    out: Annotated[Path | None, typer.Option(help="Where to write the weights (default: the packaged file).")] = None,
) -> None:
    """Retrain the learned injection layer (deepset, jackhhao, giskard + the written benign prompts), reproducibly."""
    install_if_requested()
    from guardrails import train as trainer
    from guardrails.injection_model import MODEL_PATH

    try:
        trainer.train(data_dir or trainer.DEFAULT_DATA_DIR, out or MODEL_PATH, log=lambda m: typer.echo(m, err=True))
    except trainer.TrainingDataMissing as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("blocks")
def blocks(as_json: JsonFlag = False) -> None:
    """List the active session and user blocks."""
    install_if_requested()
    from guardrails.blocklist import BlockList

    entries = BlockList().list_active()
    if as_json:
        for e in entries:
            typer.echo(json.dumps({"kind": e.kind, "key": e.key, "reason": e.reason, "source": e.source,
                                   "created_at": e.created_at, "expires_at": e.expires_at}))
        return
    if not entries:
        typer.echo("no active blocks")
        return
    table = Table(title="Active blocks")
    for column in ("kind", "key", "reason", "source", "since", "expires"):
        table.add_column(column)
    for e in entries:
        expires = "never" if e.expires_at is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(e.expires_at))
        table.add_row(e.kind, e.key, e.reason, e.source,
                      time.strftime("%Y-%m-%d %H:%M", time.localtime(e.created_at)), expires)
    Console().print(table)


@app.command("unblock")
def unblock(
    kind: Annotated[str, typer.Argument(help="session or user")],
    key: Annotated[str, typer.Argument(help="The session id or user id.")],
    by: Annotated[str, typer.Option(help="Who lifts the block (kept in the history).")] = "operator",
) -> None:
    """Lift the block on a session or user and clear its escalation history."""
    install_if_requested()
    if kind not in {"session", "user"}:
        typer.echo("error: KIND must be 'session' or 'user'", err=True)
        raise typer.Exit(2)
    from guardrails.blocklist import BlockList
    from guardrails.escalation import Escalation

    blocklist = BlockList()
    lifted = blocklist.lift(kind, key, by=by)  # type: ignore[arg-type]
    Escalation(blocklist=blocklist).forget(kind, key)
    if lifted:
        typer.echo(f"lifted {lifted} block(s) on {kind} {key}")
    else:
        typer.echo(f"no active block on {kind} {key}")
