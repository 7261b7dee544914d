"""The web application and REST API (FastAPI): `create_app(workspace_dir)`."""

from __future__ import annotations


def create_app(workspace_dir=".", **kwargs):
    from healthscore.web.app import create_app as _create

    return _create(workspace_dir, **kwargs)


__all__ = ["create_app"]
