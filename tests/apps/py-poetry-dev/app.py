import importlib.util

import click

if __name__ == "__main__":
    shipped = [name for name in ("click", "colorama", "iniconfig") if importlib.util.find_spec(name)]
    click.echo(f"shipped: {' '.join(shipped)}")
