"""The synthetic town with its ground truth, the evaluation, and the demo runners (not for production)."""
