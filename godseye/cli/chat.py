"""`godseye chat` (interactive or `--json` lines) and `godseye up` (the whole product)."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markdown import Markdown

console = Console(stderr=True)


def _parse_line(line: str, default_session: str, default_user: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg} at column {exc.colno}"
    if not isinstance(data, dict):
        return None, "each line must be a JSON object like {\"session\": ..., \"user\": ..., \"text\": ...}"
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        return None, "missing or empty \"text\""
    if len(text) > 8000:
        return None, "message too long (8000 characters at most)"
    return {
        "session": str(data.get("session") or default_session),
        "user": str(data.get("user") or default_user),
        "text": text,
    }, None


async def run_json_loop(
    session: str,
    user: str,
    *,
    app_name: str = "vcommerce",
    service: str = "godseye-cli",
    to_json: Callable[[Any], dict[str, Any]] = lambda result: result.to_json(),
) -> int:
    """JSON lines in, JSON lines out, through one app's runtime; exit code 1 if any line was refused."""
    from godseye.runtime import ShopRuntime
    from telemetry.setup import flush_telemetry, init_telemetry

    init_telemetry(service=service)
    runtime = ShopRuntime(app_name=app_name)
    await runtime.warm_up()
    failures = 0
    try:
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            if not line.strip():
                continue
            request, error = _parse_line(line, session, user)
            if error:
                failures += 1
                print(json.dumps({"error": error}), flush=True)
                continue
            result = await runtime.turn(session_id=request["session"], user_id=request["user"], text=request["text"])
            print(json.dumps(to_json(result), default=str), flush=True)
    finally:
        await runtime.close()
        flush_telemetry()
    return 0 if failures == 0 else 1


async def run_interactive(
    session: str,
    user: str,
    *,
    app_name: str = "vcommerce",
    service: str = "godseye-cli",
    title: str = "[bold]Godseye[/bold] — type your message, Ctrl-D to quit.",
    prompt: str = "you> ",
    thinking: str = "thinking…",
) -> None:
    """A terminal chat with one app: Markdown replies, who answered, the tools it used."""
    from godseye.runtime import ShopRuntime
    from telemetry.setup import flush_telemetry, init_telemetry

    init_telemetry(service=service)
    console.print(title, style="cyan")
    console.print(f"session {session} · user {user}", style="dim")
    runtime = ShopRuntime(app_name=app_name)
    with console.status("starting…"):
        await runtime.warm_up()
    loop = asyncio.get_running_loop()
    try:
        while True:
            try:
                text = await loop.run_in_executor(None, lambda: input(prompt))
            except (EOFError, KeyboardInterrupt):
                break
            if not text.strip():
                continue
            with console.status(thinking):
                result = await runtime.turn(session_id=session, user_id=user, text=text)
            tools = ", ".join(c["name"] for c in result.tool_calls)
            console.print(f"[bold green]{result.agent or app_name}[/bold green] ({result.latency_ms:.0f} ms"
                          + (f"; {tools}" if tools else "") + ")")
            console.print(Markdown(result.reply))
            for nudge in getattr(result, "nudges", None) or []:
                console.print(f"[magenta]{nudge.get('agent', 'stylist')}[/magenta] suggests: {nudge.get('text')}")
            if result.error:
                console.print(f"[red]{result.error}[/red]")
    finally:
        await runtime.close()
        flush_telemetry()


def register(app: typer.Typer) -> None:
    @app.command()
    def chat(
        json_mode: bool = typer.Option(False, "--json", help="Read JSON lines {session,user,text}; write JSON lines."),
        session: str = typer.Option(None, help="Session id (default: a new one)."),
        user: str = typer.Option("guest", help="User id."),
    ) -> None:
        """Chat with the shop in the terminal, or script conversations with --json."""
        session = session or f"cli-{uuid.uuid4().hex[:8]}"
        if json_mode:
            raise typer.Exit(asyncio.run(run_json_loop(session, user)))
        asyncio.run(run_interactive(session, user))

    @app.command()
    def up(
        port: int = typer.Option(8501, help="Streamlit port for the shopper page."),
        headless: bool = typer.Option(True, help="Do not open a browser."),
    ) -> None:
        """Start the whole product on its embedded defaults: stand-in, catalog, and the shop UI."""
        from godseye.launcher import run_product

        raise typer.Exit(run_product(port=port, headless=headless))
