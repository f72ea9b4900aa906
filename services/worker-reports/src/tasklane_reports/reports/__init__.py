"""One module per report: each builds a ``Document`` whose big table streams from the database."""
