"""The pytest run: options, collection, parametrization over orgs, fixtures, the org objects and what a run shows."""
