"""``oversight serve``: the web console and REST API."""

from __future__ import annotations

from typing import Annotated

import typer

from oversight.cli.common import DataDirOption, err_console, open_system, settings_for
from oversight.services import witnessing
from oversight.services.filemodes import require_private


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8080,
    data_dir: DataDirOption = None,
) -> None:
    """Serve the web console and the REST API (/api/v1, reference at /api/docs) until
    interrupted. Put a TLS-terminating proxy in front of it for anything beyond
    127.0.0.1: cookies are marked Secure only over HTTPS."""
    require_private(settings_for(data_dir))  # finding 5: nothing is opened over an open data dir
    import uvicorn

    from oversight.api.connections import uvicorn_options
    from oversight.web.app import create_app

    with open_system(data_dir, login=False) as system:
        app = create_app(system)
        err_console.print(f"Oversight console on http://{host}:{port}/ (API: /api/v1)")
        # Any other Host is refused (400): say which, so a first remote visitor's 400 is no riddle.
        hosts = ", ".join(system.settings.trusted_host_list)
        err_console.print(f"Answering Host: {hosts} (OVERSIGHT_TRUSTED_HOSTS)", markup=False)
        with witnessing.Submitter(system):  # checkpoints to the witnesses, in the background
            uvicorn.run(
                app,
                host=host,
                port=port,
                log_level="warning",
                access_log=False,
                **uvicorn_options(system.settings),
            )
