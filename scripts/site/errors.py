"""The one error type the build raises for bad input, so every message has the same shape."""


class BuildError(Exception):
    """A problem in the site's sources that must stop the build.

    ``where`` names the file (and page, row, field) so that the first line of output says
    exactly what to fix.
    """

    def __init__(self, where: str, message: str):
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}")
