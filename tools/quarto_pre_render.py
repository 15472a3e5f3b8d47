"""Pre-render step of the Quarto project at the repository root (_quarto.yml).

Quarto runs this file with the Python it finds (QUARTO_PYTHON, or python3 on PATH). The work is
done by ``opr_analysis.report.quarto_project.pre_render`` in the project's environment: the
checkout's ``.venv`` (``make venv``) when it exists, otherwise the Python that runs this file.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"

if VENV_PYTHON.is_file() and os.environ.get("OPR_PRE_RENDER_PYTHON") != str(VENV_PYTHON):
    os.environ["OPR_PRE_RENDER_PYTHON"] = str(VENV_PYTHON)
    os.execv(VENV_PYTHON, [str(VENV_PYTHON), __file__, *sys.argv[1:]])

sys.path.insert(0, str(ROOT))
try:
    from opr_analysis.report.quarto_project import main
except ImportError as exc:
    sys.exit(f"Feil: fant ikke opr_analysis og pakkene den trenger ({exc}); kjør make venv først")

sys.exit(main([str(ROOT)]))
