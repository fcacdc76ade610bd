"""Errors a user can fix: shown as one clear paragraph, in a notebook as on the command line."""

from __future__ import annotations

import textwrap


class UserError(Exception):
    """A problem with the user's data, settings or run folder, with what to do about it.

    IPython (JupyterLab, papermill, nbval) calls `_render_traceback_` instead of printing the
    stack: the reader sees the message and how to fix it in the notebook, not frames of
    library code.
    """

    notebook_hint = ""  # how to fix it from a notebook, added to the message there

    def _render_traceback_(self) -> list[str]:
        text = " ".join(
            part for part in (f"{type(self).__name__}: {self}", self.notebook_hint) if part
        )
        return textwrap.wrap(text, width=100, break_long_words=False, break_on_hyphens=False)
