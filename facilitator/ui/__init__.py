"""The terminal app (Textual). The only package that imports Textual; the core never imports it."""

from facilitator.ui.app import FacilitatorApp, make_app
from facilitator.ui.session import SessionPlan

__all__ = ["FacilitatorApp", "SessionPlan", "make_app"]
