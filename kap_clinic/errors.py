"""The base of every error a rule raises for a person to read.

A service refuses a change by raising a subclass of DomainError with a message a clinician (or a
client, in the portal) understands: which rule, what is missing, what to do. Views catch
DomainError once, around the service call, and show the message as a form or page error; any
other exception is a bug and reaches the error page and the logs."""


class DomainError(Exception):
    """A rule refused the change; ``str(error)`` is the message to show."""
