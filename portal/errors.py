"""Domain exceptions. Pages turn them into plain-language messages."""


class PortalError(Exception):
    """Base for errors a page shows to the user as a message, never as a stack trace."""

    user_message = "Something went wrong. Please try again."

    def __init__(self, message: str | None = None):
        super().__init__(message or self.user_message)
        self.user_message = message or self.user_message


class NotYourRecord(PortalError):
    user_message = "You do not have access to this patient's record."


class NotAllowed(PortalError):
    user_message = "Your role does not allow this action."


class NotFound(PortalError):
    user_message = "We could not find what you asked for."


class InvalidInput(PortalError):
    user_message = "Please check what you entered."
