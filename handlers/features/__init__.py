"""The features: each one a business area built on handlers.core (satisfaction, SLA, loyalty, orders,
broadcasts, greetings, self-service, delivery outcomes, the numbers)."""
