"""The background-job registry: name -> idempotent function(session, now), with how often it runs.

Embedded default: ``flask serve`` (what ``make run`` starts) runs the registry in a thread of the same
process, and ``flask jobs run`` runs it as a loop of its own. Every job must be safe to run twice or
concurrently (later, the same functions become Celery tasks). A job that fails is logged and retried on
the next tick; it never stops the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from marketplace.db import database, utcnow

log = logging.getLogger("canal.jobs")

JobFunction = Callable[[Session, datetime], object]


@dataclass(frozen=True)
class Job:
    name: str
    function: JobFunction
    every_seconds: int
    description: str


REGISTRY: dict[str, Job] = {}


def register(name: str, every_seconds: int, description: str = "") -> Callable[[JobFunction], JobFunction]:
    """Register ``function`` under ``name``; it is run at most every ``every_seconds`` by a runner."""

    def decorator(function: JobFunction) -> JobFunction:
        REGISTRY[name] = Job(name, function, every_seconds, description or (function.__doc__ or "").strip())
        return function

    return decorator


def run_job(app: Flask, name: str, now: datetime | None = None) -> object:
    """Run one job in its own session and commit what it did."""
    job = REGISTRY[name]
    with app.app_context():
        session = database(app).write_session_factory()
        try:
            result = job.function(session, now or utcnow())
            session.commit()
            return result
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()


class Runner:
    """Runs due jobs on a fixed tick until stopped."""

    def __init__(self, app: Flask, tick_seconds: int | None = None):
        self.app = app
        self.tick = tick_seconds or app.config["JOBS_INTERVAL_SECONDS"]
        self.last_run: dict[str, float] = {}
        self.stop_event = threading.Event()

    def run_due(self) -> list[str]:
        ran = []
        for name, job in sorted(REGISTRY.items()):
            if time.monotonic() - self.last_run.get(name, -1e9) < job.every_seconds:
                continue
            self.last_run[name] = time.monotonic()
            try:
                run_job(self.app, name)
                ran.append(name)
            except Exception:  # noqa: BLE001 - one failing job must not stop the others
                log.exception("job %s failed; it will be retried", name)
        return ran

    def loop(self) -> None:
        log.info("job runner started: %s", ", ".join(sorted(REGISTRY)) or "(no jobs)")
        while not self.stop_event.is_set():
            self.run_due()
            self.stop_event.wait(self.tick)

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.loop, name="canal-jobs", daemon=True)
        thread.start()
        return thread


def register_builtin_jobs() -> None:
    """Register the jobs of every domain (explicit list, no import-time side effects elsewhere)."""
    from marketplace.creators import stats
    from marketplace.mail.services import deliver_pending
    from marketplace.orders import timers

    register("mail.deliver", every_seconds=5, description="Send queued emails from the outbox.")(deliver_pending)
    register("creators.refresh_stats", every_seconds=stats.REFRESH_EVERY_SECONDS,
             description="Refresh creators' statistics and works from the platform (older than a day)."
             )(stats.refresh_stale_stats)
    timers.register(register)
