"""What checks compute with: drift, endpoint environments, package versions, the subscriber fleet and its lag."""
