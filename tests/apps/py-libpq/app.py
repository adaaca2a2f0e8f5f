"""Prints the libpq psycopg2 was built against and the one it loads at run time."""

import psycopg2
import psycopg2.extensions

if __name__ == "__main__":
    print(f"psycopg2 {psycopg2.__version__.split()[0]} built with libpq {psycopg2.__libpq_version__}, "
          f"running with libpq {psycopg2.extensions.libpq_version()}")
