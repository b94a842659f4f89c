"""The page at `/` until the supervisors' console takes it over: what FieldCheck is and where to go.

One route and one template, so the console can replace both without touching anything else.
"""

from __future__ import annotations

from flask import Blueprint, render_template

blp = Blueprint("home", __name__, template_folder="templates")


@blp.get("/")
def home() -> str:
    return render_template("home.html")
