"""The command-line programs: argparse, exit codes and printing live here; the library does the
work.

Each program checks its arguments before it imports the library, so a wrong argument is answered
at once, without waiting for TensorFlow to load.
"""
