"""`godseye image` commands: check uploads the way the shop does, and try a garment on offline.

Exit codes of `godseye image check`: 0 every file accepted, 1 at least one file rejected,
2 a file could not be read (missing, a directory, permission denied).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from godseye.netguard import install_if_requested

app = typer.Typer(help="Upload security checks and offline try-on.", no_args_is_help=True)

EXIT_REJECTED = 1
EXIT_UNREADABLE = 2


@app.command("check")
def check(
    files: list[Path] = typer.Argument(..., help="Image files to check (name and extension are ignored)."),
    user: str | None = typer.Option(None, "--user", help="Attribute rejections to this user (enables the block)."),
    sanitised_dir: Path | None = typer.Option(
        None, "--save-sanitised", help="Write the sanitised copy of accepted files into this folder."
    ),
) -> None:
    """Print one JSON verdict per file; exit 1 if any file is rejected, 2 if one cannot be read."""
    install_if_requested()
    from mcp_servers.image.attribution import default_attribution
    from mcp_servers.image.validator import validate_upload

    attribution = default_attribution()  # open the databases once, so `ms` is the per-file cost
    worst = 0
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            typer.echo(json.dumps({"path": str(path), "ok": False, "kind": None,
                                   "message": f"Cannot read the file: {exc.strerror or exc}"}))
            worst = max(worst, EXIT_UNREADABLE)
            continue
        start = time.perf_counter()
        verdict = validate_upload(data, user_id=user, attribution=attribution)
        ms = (time.perf_counter() - start) * 1000
        out = {"path": str(path), "ok": verdict.ok, "kind": verdict.kind, "message": verdict.message,
               "width": verdict.width, "height": verdict.height, "format": verdict.format,
               "bytes": verdict.bytes, "ms": round(ms, 3), "detail": verdict.detail}
        if verdict.ok:
            out.update(entropy=round(verdict.entropy or 0.0, 4), sanitised=[verdict.image_width, verdict.image_height])
            if sanitised_dir is not None and verdict.image is not None:
                sanitised_dir.mkdir(parents=True, exist_ok=True)
                target = sanitised_dir / f"{path.stem}.clean.{'png' if verdict.image_format == 'PNG' else 'jpg'}"
                target.write_bytes(verdict.image)
                out["sanitised_path"] = str(target)
        else:
            worst = max(worst, EXIT_REJECTED)
        typer.echo(json.dumps(out, ensure_ascii=False))
    raise typer.Exit(worst)


@app.command("tryon")
def tryon(
    photo: Path = typer.Argument(..., help="The shopper's photo."),
    product_image: Path = typer.Option(..., "--product-image", help="Garment cut-out (PNG with transparency)."),
    out: Path = typer.Option(..., "--out", help="Where to write the preview PNG."),
    backend: str = typer.Option("auto", help="auto (Gemini when configured), compositor or gemini."),
) -> None:
    """Render a try-on preview from local files (validates both images first)."""
    install_if_requested()
    from mcp_servers.image.service import render
    from mcp_servers.image.tryon import TryOnError
    from mcp_servers.image.validator import inspect

    try:
        photo_bytes, garment_bytes = photo.read_bytes(), product_image.read_bytes()
    except OSError as exc:
        typer.echo(json.dumps({"ok": False, "message": f"Cannot read the file: {exc}"}))
        raise typer.Exit(EXIT_UNREADABLE) from None
    verdict = inspect(photo_bytes)
    if not verdict.ok or verdict.image is None:
        typer.echo(json.dumps({"ok": False, "kind": verdict.kind, "message": verdict.message}))
        raise typer.Exit(EXIT_REJECTED)
    try:
        result = render(verdict.image, garment_bytes, backend=backend)
    except TryOnError as exc:
        typer.echo(json.dumps({"ok": False, "message": str(exc)}))
        raise typer.Exit(EXIT_REJECTED) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(result.image)
    typer.echo(json.dumps({"ok": True, "out": str(out), "description": result.describe(),
                           "validate_ms": round(verdict.ms, 2), **result.summary()}))
