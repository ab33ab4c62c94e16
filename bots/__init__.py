"""Platform adapters: turn webhook requests into Inbound records and Outbound messages into API calls.

Nothing in this package knows about tickets, customers or agents.
"""
