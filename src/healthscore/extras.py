"""Optional parts of healthscore and the packages they bring (pyproject.toml's optional dependencies).

The base install ingests, scores, explains and stores. A command that needs more reaches a missing package
as a ModuleNotFoundError; `missing_extra` turns that into a clear error naming the extra to install."""

from __future__ import annotations

from healthscore.errors import InvalidInput

# top-level import name -> (extra, what needs it)
EXTRA_OF_MODULE: dict[str, tuple[str, str]] = {
    "sklearn": ("calibrate", "calibration, backtests and learned shapes"),
    "scipy": ("calibrate", "calibration, backtests and learned shapes"),
    "matplotlib": ("calibrate", "backtest figures"),
    "fastapi": ("web", "the web application and REST API"),
    "starlette": ("web", "the web application and REST API"),
    "uvicorn": ("web", "the web application and REST API"),
    "jinja2": ("web", "the web application and REST API"),
    "itsdangerous": ("web", "the web application and REST API"),
    "multipart": ("web", "the web application and REST API"),
    "python_multipart": ("web", "the web application and REST API"),
    "swagger_ui_bundle": ("web", "the web application and REST API"),
    "nats": ("stream", "real-time events from NATS JetStream"),
    "pyspark": ("spark", "the Spark engine"),
}


def missing_extra(exc: BaseException) -> InvalidInput | None:
    """The user-facing error for a package of an optional extra that is not installed; None otherwise."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    found = EXTRA_OF_MODULE.get(exc.name.split(".")[0])
    if found is None:
        return None
    extra, purpose = found
    return InvalidInput(f"{purpose} needs the optional '{extra}' part of healthscore, which is not installed"
                        f" (package {exc.name} is missing): pip install 'healthscore[{extra}]'", field=extra)
