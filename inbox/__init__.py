"""The inbox: webhook events stored before the 200, then parsed and handed to the business, in order per chat."""
