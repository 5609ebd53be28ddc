"""Server-rendered web pages of the MDT service (see web/app.py: ``install``)."""
