"""Domain errors the apps' service functions share (the REST layer maps them to answers)."""


class Duplicate(Exception):
    """A service write would create something that already exists (the API answers 409)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
