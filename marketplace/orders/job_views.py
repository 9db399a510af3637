"""Campaigns, jobs and applications: the brand's side, the creator's job board and applications."""

from __future__ import annotations

from flask import Blueprint, abort

bp = Blueprint("jobs", __name__)


@bp.get("/jobs/<int:job_id>")
def job(job_id: int):
    abort(404)


@bp.get("/creator/applications")
def my_applications():
    abort(404)


@bp.get("/applications/<int:application_id>")
def application(application_id: int):
    abort(404)
