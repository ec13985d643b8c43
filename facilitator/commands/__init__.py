"""CLI commands: one module each, exposing ``add_parser(subparsers)`` (which sets ``func``)."""
