"""One error type the CLI turns into a single clear line and a non-zero exit."""


class TraitError(Exception):
    """A user-facing error: the message names the file:line, key or record at fault."""


class BadInputError(TraitError):
    """Input data that cannot be read (malformed line, bad encoding, missing field...)."""


class ConfigError(TraitError):
    """A configuration file or override that does not validate."""
