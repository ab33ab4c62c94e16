"""The owners' numbers, as plain query functions (no Flask here): each page of the dashboard is one function
that takes a `Period` and returns figures (with the previous period's value beside them) and tables (each
one what a chart draws, what the page lists beside it, and what its CSV holds).

Words are not chosen here: a table's columns, and the values of its `coded` columns, are keys of
templates/<lang>/dashboard/words.toml; the web layer puts them in the owner's language.
"""
