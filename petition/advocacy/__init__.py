"""From signatures to the people who decide: the decision-makers a petition asks to act (its
targets), the députés' list and its import, the message a signer sends their own député, the
public page of who was asked and who answered, and the campaign's public news.
"""
