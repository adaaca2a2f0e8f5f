"""Lets `python -m s2i` run the CLI."""

from s2i.cli import main

main()
