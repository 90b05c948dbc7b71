"""Errors the core raises; the Processing layer turns them into QgsProcessingException unchanged."""


class SmapdownError(Exception):
    """A failure with a sentence for a person (names the file and the problem)."""


class InputError(SmapdownError, ValueError):
    """Bad input: a missing, unreadable or unrecognised file, an unknown variable, an empty extent."""


class Canceled(SmapdownError):  # noqa: N818 - reads as the event
    """The user cancelled; whatever was being written has been removed."""


class NoDataError(InputError):
    """A readable file without a single valid value where it was asked for (a swath gap, frozen soil)."""
