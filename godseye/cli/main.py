"""`godseye` entry point. Each command group lives in its own module and registers here."""

from __future__ import annotations

import typer

from godseye.cli import cart, catalog, chat, datadog_cmd, guard, image, simulate, sre, standin

app = typer.Typer(
    name="godseye",
    help="Godseye: an AI-native shop and the observability suite that guards it.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Every command: offline-safe environment first (and the network guard when tests ask for it)."""
    from godseye.config import apply_offline_defaults
    from godseye.netguard import install_if_requested

    install_if_requested()
    apply_offline_defaults()


chat.register(app)
simulate.register(app)
app.add_typer(catalog.app, name="catalog")
app.add_typer(cart.app, name="cart")
app.add_typer(guard.app, name="guard")
app.add_typer(image.app, name="image")
app.add_typer(sre.app, name="sre")
app.add_typer(datadog_cmd.app, name="datadog")
standin.register(app)
datadog_cmd.register_incidents(app)

if __name__ == "__main__":
    app()
