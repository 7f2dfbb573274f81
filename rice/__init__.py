"""Rice aid in kind: programmes by stage, cooking tests, hand-overs, returns, progress."""
