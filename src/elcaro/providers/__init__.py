"""Clients of outside services that are neither an exchange nor the database: payment providers.

Infrastructure, at the level of ``storage`` and ``exchanges``: the services call these and never speak a
provider's wire protocol themselves.
"""
