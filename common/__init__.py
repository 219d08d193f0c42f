"""Library code every app may import: it imports nothing of ours, so it sits below providers."""
