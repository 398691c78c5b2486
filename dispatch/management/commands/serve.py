"""Serve Beacon over ASGI (HTTP + websockets) with uvicorn.

In embedded mode this one process is the whole deployment: it also runs Celery
beat in a thread, and tasks run in-process. In production mode it serves only;
workers and beat are separate processes (see docs/operations.md).
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from beacon_core.embedded import start_embedded_beat

# Largest websocket message the server reads (uvicorn's default is 16 MiB). Consoles send only
# small pings (the consumer answers anything over 4 KiB with an error); a bigger frame closes
# that one connection with 1009 (message too big) before it is buffered.
WS_MAX_BYTES = 64 * 1024


class Command(BaseCommand):
    help = (
        "Serve Beacon (HTTP + websockets). Embedded mode also runs scheduled jobs in this process."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("WEB_CONCURRENCY", "1")),
            help="ASGI worker processes (production mode only; embedded mode always uses one).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        import uvicorn

        workers = options["workers"]
        if settings.EMBEDDED and workers != 1:
            # The in-process channel layer and the embedded beat exist once per process.
            self.stderr.write("Embedded mode serves from one process; ignoring --workers.")
            workers = 1
        mode = (
            "embedded (SQLite, in-process jobs and realtime)" if settings.EMBEDDED else "production"
        )
        db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        self.stdout.write(f"Beacon {mode}; database: {db}")
        self.stdout.write(f"Listening on http://{options['host']}:{options['port']}/")
        if workers == 1:
            if settings.EMBEDDED:
                from intelligence.tasks import fail_runs_lost_by_embedded_process

                # Before the beat starts anything: runs still "running" died with the last process.
                if lost := fail_runs_lost_by_embedded_process():
                    self.stdout.write(
                        f"Marked {lost} analysis run(s) the last process left failed."
                    )
            if start_embedded_beat():
                self.stdout.write("Scheduled jobs: embedded beat running in this process.")
            uvicorn.run(
                "config.asgi:application",
                host=options["host"],
                port=options["port"],
                lifespan="off",
                log_level=os.environ.get("UVICORN_LOG_LEVEL", "info"),
                proxy_headers=True,
                ws_max_size=WS_MAX_BYTES,
            )
        else:
            uvicorn.run(
                "config.asgi:application",
                host=options["host"],
                port=options["port"],
                workers=workers,
                lifespan="off",
                proxy_headers=True,
                ws_max_size=WS_MAX_BYTES,
            )
