"""Shared code of the cats-vs-dogs notebook series.

Importing the package imports no TensorFlow: `helpers.config` and the commands' argument checks
answer at once. The modules that use TensorFlow import it through `helpers.quiet_tensorflow`.
"""

__version__ = "0.1.0"
