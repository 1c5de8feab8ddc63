"""The error raised for designs that cannot be made (shared by the parameters and the target
curve, so neither imports the other for it)."""


class DesignError(ValueError):
    """A design request that cannot be met; the message names the parameter and the reason."""
