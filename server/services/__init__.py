"""Domain rules. Functions take the session explicitly and never commit unless they say so."""
