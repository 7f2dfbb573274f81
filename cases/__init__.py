"""Cases: a report from submission through decision and delivery, objections, retention."""
