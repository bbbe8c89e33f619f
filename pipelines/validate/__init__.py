"""Great Expectations suites over the raw values → the observations scoring reads."""
