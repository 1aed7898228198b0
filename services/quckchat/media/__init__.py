"""Media service: previews, placeholders and searchable text for uploaded files."""
