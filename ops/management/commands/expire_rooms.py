"""`manage.py expire_rooms`: delete idle room records, once or on a schedule.

Once: ``expire_rooms``. As the compose janitor: ``expire_rooms --every 3600
--heartbeat FILE`` runs a pass now and then every hour, writing after each pass
the time by which the next one is due; ``expire_rooms --check-heartbeat FILE``
(the container health check) exits 1 once that time has passed.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections

from ops.expiry import expire_idle_records

logger = logging.getLogger(__name__)


def write_heartbeat(path: Path, due_by: float) -> None:
    """Record (atomically) the Unix time by which the next pass is due."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{due_by:.0f}\n")
    tmp.replace(path)


def heartbeat_fresh(path: Path, now: float) -> bool:
    """Say whether the heartbeat at ``path`` exists and its due time has not passed."""
    try:
        return now <= float(path.read_text().strip())
    except (OSError, ValueError):
        return False


class Command(BaseCommand):
    """Delete room records idle for SOTTO_IDLE_RECORD_DAYS and old traffic rows."""

    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the options."""
        parser.add_argument("--days", type=int, default=None, help="idle age in days")
        parser.add_argument("--every", type=float, default=0.0, help="repeat every N seconds")
        parser.add_argument("--heartbeat", type=Path, default=None, help="file to stamp")
        parser.add_argument(
            "--check-heartbeat", type=Path, default=None, help="exit 1 if FILE is overdue"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Run one pass, loop, or check a loop's heartbeat."""
        if options["check_heartbeat"] is not None:
            if not heartbeat_fresh(options["check_heartbeat"], time.time()):
                raise CommandError("janitor heartbeat is missing or overdue")
            return
        every: float = options["every"]
        if every < 0:
            raise CommandError("--every must be positive")
        while True:
            ok = self.run_pass(options["days"])
            if ok and options["heartbeat"] is not None:
                # Due by two intervals from now: one missed pass is tolerated.
                write_heartbeat(options["heartbeat"], time.time() + 2 * max(every, 60.0))
            if not every:
                if not ok:
                    raise CommandError("expiry failed: the database did not answer")
                return
            time.sleep(every)

    def run_pass(self, days: int | None) -> bool:
        """Expire once; return False (and log the error type) if the database failed."""
        close_old_connections()
        try:
            expired = expire_idle_records(days=days)
        except DatabaseError as exc:
            logger.warning("expire_rooms: pass failed: %s", type(exc).__name__)
            return False
        logger.info(
            "expire_rooms: deleted %d idle rooms, %d traffic minutes",
            expired.rooms,
            expired.traffic_minutes,
        )
        self.stdout.write(f"expired {expired.rooms} rooms, {expired.traffic_minutes} minutes")
        return True
