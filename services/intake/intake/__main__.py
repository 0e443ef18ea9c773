"""`python -m intake`: run the intake service until SIGTERM."""

from __future__ import annotations

from intake.app import create_app
from kamqor.runtime import run_main


def main() -> None:
    run_main(create_app())


if __name__ == "__main__":
    main()
