"""Reading and validating a registry extract: the first step of every command.

:mod:`.sources` finds and decodes the table files (CSV, Parquet, XLSX),
:mod:`.parsing` turns cells into typed values, :mod:`.schemas` derives the
pandera schemas from :mod:`.codebook` (``codebook.yaml``, ``instruments.yaml``),
:mod:`.validation` records problems and counts, and :mod:`.reader` puts it
together as :func:`load_extract`, which returns a :class:`Registry`.
:mod:`.codebook_doc` writes the codebook as Markdown.

Modules are imported on use, so ``import opr_analysis`` stays light.
"""
