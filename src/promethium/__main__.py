"""``python -m promethium`` runs the command-line interface."""

from promethium.cli.main import main

if __name__ == "__main__":
    main()
