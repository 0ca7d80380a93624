"""Proofs that the kiosk keeps its promises under abuse: crash harnesses and their invariant checks."""
