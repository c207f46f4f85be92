"""OCR of PDF pages without a text layer: rendered by poppler's ``pdftoppm``, read by Tesseract in French.

Only the pages whose text layer is (nearly) empty are rendered and read, one at a time, so a mostly digital PDF
with a few scanned pages costs a few OCR'd pages. Both tools come from Debian's packages (``make ocr``:
tesseract-ocr, tesseract-ocr-fra, poppler-utils); without them a scanned PDF is refused as before. The choice of
Tesseract over a PyPI OCR wheel is measured by ``nexus bench ocr`` (figures in the README).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ingest.errors import ParseError, UnusableFileError

MIN_PAGE_CHARS = 20  # a page with less extracted text than this (a page number, a stamp) is read by OCR
MAX_OCR_PAGES = 300  # about 10 minutes of OCR on one core; a longer scan is refused with a reason
OCR_DPI = 200  # a scan's usual resolution: upsampling a 200 dpi scan to 300 made Tesseract worse here
OCR_LANG = "fra"
PAGE_TIMEOUT_S = 120


def available() -> bool:
    """Whether Tesseract with its French data and pdftoppm are installed."""
    if not (shutil.which("tesseract") and shutil.which("pdftoppm")):
        return False
    try:
        langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return OCR_LANG in langs.stdout.split()


def pages_without_text(pages: list[str]) -> list[int]:
    """The 1-based numbers of the pages whose extracted text is too short to be the page's content."""
    return [n for n, text in enumerate(pages, start=1) if len("".join(text.split())) < MIN_PAGE_CHARS]


def _env() -> dict[str, str]:
    # one thread per page: Tesseract's OpenMP threads only slow it down on a shared 2-core machine
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


def render_page(pdf: Path, number: int, out_dir: Path, dpi: int = OCR_DPI) -> Path:
    """Render one page of ``pdf`` to a grey PNG with pdftoppm; returns its path."""
    stem = out_dir / f"page-{number}"
    subprocess.run(
        ["pdftoppm", "-f", str(number), "-l", str(number), "-r", str(dpi), "-gray", "-png", "-singlefile", pdf, stem],
        capture_output=True,
        timeout=PAGE_TIMEOUT_S,
        check=True,
    )
    return stem.with_suffix(".png")


def tesseract(image: Path, lang: str = OCR_LANG) -> str:
    """The text Tesseract reads in an image (automatic page segmentation)."""
    result = subprocess.run(
        ["tesseract", str(image), "stdout", "-l", lang, "--psm", "3"],
        capture_output=True,
        text=True,
        timeout=PAGE_TIMEOUT_S,
        check=True,
        env=_env(),
    )
    return result.stdout.replace("\x0c", "").strip()


def ocr_pdf_pages(data: bytes, numbers: list[int], lang: str = OCR_LANG, dpi: int = OCR_DPI) -> dict[int, str]:
    """OCR the given 1-based pages of a PDF, one at a time; returns each page's text."""
    if len(numbers) > MAX_OCR_PAGES:
        raise UnusableFileError(
            f"Le PDF scanné compte trop de pages sans texte pour la reconnaissance de caractères "
            f"({len(numbers)} > {MAX_OCR_PAGES}) : découpez-le ou exportez-le avec son texte.",
            "too_many_scanned_pages",
        )
    texts: dict[int, str] = {}
    with tempfile.TemporaryDirectory(prefix="nexus-ocr-") as tmp:
        folder = Path(tmp)
        pdf = folder / "scan.pdf"
        pdf.write_bytes(data)
        for number in numbers:
            try:
                image = render_page(pdf, number, folder, dpi)
                texts[number] = tesseract(image, lang)
                image.unlink()
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
                raise ParseError(
                    f"La reconnaissance de caractères (OCR) a échoué à la page {number} ({type(exc).__name__})."
                ) from exc
    return texts


def fill_scanned_pages(data: bytes, pages: list[str]) -> list[int]:
    """Replace, in ``pages``, the text of pages without a text layer by their OCR; returns the pages OCR'd.

    Does nothing (returns ``[]``) when the OCR tools are not installed.
    """
    missing = pages_without_text(pages)
    if not missing or not available():
        return []
    done: list[int] = []
    for number, text in ocr_pdf_pages(data, missing).items():
        if text.strip():
            pages[number - 1] = text
            done.append(number)
    return done
