"""Files into the library: read pages (PyMuPDF or plain text), fix layout, cut segments, store them.

Owns readers (file types), layout (reading order, running headers), segmentation and the atomic
add. Imports store/ only. Public entry: `add_paths` / `add_path` (ingest.library).
A new file type plugs in at ingest.readers.read_document.
"""
