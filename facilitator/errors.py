"""One exception type for everything the user can fix; the CLI prints it as a single line."""


class UserError(Exception):
    """A problem with input, settings or the environment, explained in one line."""
