"""Hand-over between organisations ("parcours sans rupture"): one organisation following a
person proposes that another one that follows them takes the lead of the pathway."""
