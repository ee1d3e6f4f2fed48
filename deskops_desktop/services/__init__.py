"""Qt-free services. Each public call is one unit of work and returns frozen dataclasses."""
