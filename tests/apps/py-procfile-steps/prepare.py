"""A release step a Procfile runs before the server (as `flask db upgrade; ...` does): it notes itself in steps.txt."""

import sys

with open("steps.txt", "a") as notes:
    notes.write(sys.argv[1] + "\n")
