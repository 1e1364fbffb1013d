"""Reports people read: findings, the pytest-html block and columns, JUnit XML properties."""
