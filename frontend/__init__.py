"""The browser client: the page template and its static ES modules."""
