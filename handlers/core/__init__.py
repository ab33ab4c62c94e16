"""The core of the business, under every feature: the clock, words, customers, tickets and their cards."""
