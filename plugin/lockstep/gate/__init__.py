"""The release gate: its typed model, how a run builds it, reading it back, merging shards, the upstream stage."""
