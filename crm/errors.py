"""Domain refusals: a service raises one, and the view shows its message next to the field."""


class Refusal(Exception):
    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
