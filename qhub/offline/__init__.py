"""The offline engine: runs the real Pulumi program under mocks and records the resource graph."""
