"""The error a service raises for bad input; views show each message next to its field."""

from __future__ import annotations


class ValidationError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.errors: dict[str, str] = {field: message}

    @classmethod
    def of(cls, errors: dict[str, str]) -> ValidationError:
        """One error carrying a message for each of several fields."""
        first, *_rest = errors
        error = cls(first, errors[first])
        error.errors = dict(errors)
        return error

    def apply_to(self, form) -> None:
        """Put each message under its field of a WTForms form (or the form's own list)."""
        for field, message in self.errors.items():
            target = getattr(form, field, None)
            if target is not None and hasattr(target, "errors"):
                target.errors = [*target.errors, message]
            else:
                form.form_errors.append(message)
