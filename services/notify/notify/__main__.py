"""`python -m notify`: run the notify service until SIGTERM."""

from __future__ import annotations

from kamqor.runtime import run_main
from notify.app import create_app


def main() -> None:
    run_main(create_app())


if __name__ == "__main__":
    main()
