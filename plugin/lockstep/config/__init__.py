"""Configuration: profiles, expectations, auth, waivers and release policy, read from YAML and validated."""
