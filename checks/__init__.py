"""Lockstep's built-in check catalog (installed as ``lockstep.catalog``).

A package, so that its modules import under their own names (``lockstep.catalog.test_packages``)
and a project's own check file with the same file name (``checks/test_packages.py``) collects
beside it.
"""
