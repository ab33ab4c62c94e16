"""The desk: what agents do in the team group — replies, commands and the ticket card's buttons."""
