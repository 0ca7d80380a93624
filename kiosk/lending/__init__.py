"""Lending rules and the transactions that apply them: borrow, return, renew. No Kivy, no devices."""
