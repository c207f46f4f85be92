"""``nexus bench ocr``: Tesseract (Debian's, French data) against RapidOCR (a PyPI wheel that ships its models)
on a scanned French exam paper made here (``evals.scan_fixtures``): word accuracy and pages/s.

Both engines read the same pages rendered by pdftoppm at the resolution ingestion uses; pages/s counts the
rendering. Word accuracy is the share of the drawn words found, in order, in the engine's text (difflib's
matching blocks over word lists), with accents as written and with accents folded.
"""

from __future__ import annotations

import difflib
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from evals.bench import _write
from evals.scan_fixtures import scanned_exam
from ingest import ocr
from knowledge.text import fold

ENGINES = ("tesseract", "rapidocr")


def word_accuracy(reference: str, hypothesis: str) -> float:
    """Share of the reference's words that the hypothesis has, in the same order."""
    ref, hyp = reference.split(), hypothesis.split()
    if not ref:
        return 1.0
    matcher = difflib.SequenceMatcher(None, ref, hyp, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(ref)


def _rapidocr() -> Any:
    """RapidOCR's engine, or None when the wheel is not installed (it is not a project dependency)."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        return None
    return RapidOCR()


def bench_ocr(pages: int, engines: list[str], out: Path, console: Console) -> dict[str, Any]:
    """OCR a ``pages``-page scan with each engine; print and write word accuracy and pages/s."""
    if not ocr.available():
        raise RuntimeError("Tesseract (fra) and pdftoppm are needed: run `make ocr`")
    data, references = scanned_exam(pages)
    report: dict[str, Any] = {"pages": pages, "dpi": ocr.OCR_DPI, "engines": {}}
    with tempfile.TemporaryDirectory(prefix="nexus-ocr-bench-") as tmp:
        folder = Path(tmp)
        pdf = folder / "scan.pdf"
        pdf.write_bytes(data)
        for engine in engines:
            load_s = 0.0
            if engine == "rapidocr":
                t0 = time.perf_counter()
                rapid = _rapidocr()
                load_s = time.perf_counter() - t0
                if rapid is None:
                    report["engines"][engine] = {"skipped": "pip install rapidocr-onnxruntime to measure it"}
                    continue
            console.print(f"{engine} : {pages} pages…")
            texts: list[str] = []
            t0 = time.perf_counter()
            for number in range(1, pages + 1):
                image = ocr.render_page(pdf, number, folder)
                if engine == "tesseract":
                    texts.append(ocr.tesseract(image))
                else:
                    result, _ = rapid(str(image))
                    texts.append("\n".join(str(line[1]) for line in result or []))
                image.unlink()
            seconds = time.perf_counter() - t0
            accuracy = [word_accuracy(r, t) for r, t in zip(references, texts, strict=True)]
            folded = [word_accuracy(fold(r), fold(t)) for r, t in zip(references, texts, strict=True)]
            report["engines"][engine] = {
                "word_accuracy": round(sum(accuracy) / pages, 3),
                "word_accuracy_accents_folded": round(sum(folded) / pages, 3),
                "worst_page_accuracy": round(min(accuracy), 3),
                "pages_per_s": round(pages / seconds, 3),
                "seconds": round(seconds, 1),
                "model_load_s": round(load_s, 1),
                "sample": texts[0][:160],
            }
    _write(out, "ocr", report)
    return report
