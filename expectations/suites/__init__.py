"""One expectation suite module per sector; each exposes `expectations(gxe)`."""
