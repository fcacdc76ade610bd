"""Errors a user can fix: shown as one clear paragraph, in a notebook as on the command line."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's data, settings or run folder, with what to do about it.

    IPython (JupyterLab, papermill, nbval) calls `_render_traceback_` instead of printing the
    stack: the reader sees the message and how to fix it in the notebook, not frames of
    library code.
    """

    notebook_hint = ""  # how to fix it from a notebook, added to the message there

    def _render_traceback_(self) -> list[str]:
        message = f"{type(self).__name__}: {self}"
        if not self.notebook_hint:
            return [message]
        end = "" if message.endswith((".", "!", "?")) else "."
        return [f"{message}{end} {self.notebook_hint}"]


class PathInTheWayError(UserError, FileExistsError):
    """A file or folder is already where a program would write: it is never overwritten."""


def first_line(error: BaseException) -> str:
    """The first line of an error's message, or its type's name when the message is empty.

    Libraries (Keras, TensorFlow, h5py) raise many-line messages; one line is what a user reads.
    """
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
