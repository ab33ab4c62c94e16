"""The sender: takes messages from the outbox and delivers them through bots/, at the platforms' pace."""
