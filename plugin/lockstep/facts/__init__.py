"""Facts: what checks read from an org, planned before the first check and fetched in few API calls."""
