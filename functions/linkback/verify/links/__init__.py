"""Finding a link to the target in a page: the reference scanner and the fast one held equal to it."""
