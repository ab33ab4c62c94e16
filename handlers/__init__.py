"""Business rules: what happens when a customer or an agent does something.

Handlers never call a platform API: they write rows and enqueue outbound messages in one transaction.
"""
