"""Great Expectations suites per sector, validation and quarantine."""
