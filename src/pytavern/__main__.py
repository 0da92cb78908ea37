"""Entry point for ``python -m pytavern``."""

from pytavern.cli import main

if __name__ == "__main__":
    main()
