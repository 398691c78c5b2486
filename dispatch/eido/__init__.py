"""NENA EIDO (NENA-STA-021) for CAD-to-CAD transfer: export a call, import a transferred one.

``export`` builds the document from what the reader may see, ``importer`` turns a document into
``call_create`` arguments, ``apco`` maps Beacon call types to APCO common incident types and
``schema`` validates against NENA's schema read from a folder outside the project (NENA grants
no licence for it, so Beacon never copies it; see docs/eido.md).
"""
