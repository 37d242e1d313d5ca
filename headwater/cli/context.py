import typer

from headwater.config import LocalSettings


def settings_of(context: typer.Context) -> LocalSettings:
    """The settings the root command built from the environment and `--state-dir`."""
    settings = context.find_root().obj
    if not isinstance(settings, LocalSettings):
        raise RuntimeError("headwater's root callback did not run")
    return settings
