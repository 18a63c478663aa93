"""``python -m wiass`` runs the command line."""

from wiass.cli import main

main(prog_name="wiass")
