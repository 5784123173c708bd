"""The reliability and security suite: faults, overlaps and kills, bad input, secrets."""
