"""The ``lockstep`` subcommands that read an org: ``init``, ``expect``, ``snapshot``."""
