"""Local stand-ins for the outside world: the Slack Web API on loopback and Slack's request signing."""
