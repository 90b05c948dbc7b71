"""A minimal progress/cancel/log interface for long core jobs (QGIS-free).

The Processing algorithms adapt QgsProcessingFeedback to it; scripts and tests use the silent default.
"""

from __future__ import annotations

from .errors import Canceled


class Feedback:
    """Silent feedback: never cancelled. Subclass to report progress or to cancel."""

    def progress(self, percent: float) -> None:
        """Report overall progress, 0..100."""

    def info(self, message: str) -> None:
        """Report a line of log."""

    def canceled(self) -> bool:
        """Whether the user asked to stop."""
        return False

    def check(self) -> None:
        """Raise :class:`Canceled` when the user asked to stop."""
        if self.canceled():
            raise Canceled("cancelled by the user")


class PrintFeedback(Feedback):
    """Feedback that prints log lines (for scripts)."""

    def info(self, message: str) -> None:
        """Print the line."""
        print(message, flush=True)


SILENT = Feedback()
