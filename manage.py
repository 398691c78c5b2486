#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# One BLAS thread per process, set before anything imports numpy (OpenBLAS reads these once, at
# load). The analyses multiply small matrices; with a thread per core, OpenBLAS's threads
# busy-wait for work and, on a 2-core box shared with the web server and the database, made a
# 5,568 x 168 product ~15x slower (26 ms vs 1.8 ms). Parallelism comes from processes instead.
# setdefault: an operator's own setting wins. The Celery worker sets the same in config/celery.py.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    """Run administrative tasks."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
