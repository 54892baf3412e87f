"""Real components for tests and benchmarks (local servers, fixtures), shipped so users can reuse them."""
