"""Which font draws Chinese in exports and plots, on a fresh machine and with a stale cache."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib
import pdfplumber
import pytest
from click.testing import CliRunner
from fontTools.ttLib import TTCollection, TTFont
from matplotlib import font_manager

from parkmap import fonts
from parkmap.cli import main
from parkmap.errors import InputError
from parkmap.export import export_all
from parkmap.pipeline import analyse

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = Path(
    str(
        importlib.metadata.distribution("noto-cjk-sans-otc").locate_file(
            "noto_cjk_sans_otc/NotoSansCJK-Regular.ttc"
        )
    )
)
DEJAVU = Path(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")
PARK_NAMES = [
    f["properties"]["name_zh"]
    for f in json.loads((ROOT / "parkmap/geodata/parks.geojson").read_text(encoding="utf-8"))[
        "features"
    ]
]
# "$" twice: read as mathtext by matplotlib unless text.parse_math is off.
TITLE = "青岛园区投资简报：单项US$5–US$8亿"


def _face_draws_chinese(path: str, index: int) -> bool:
    """Independent of parkmap: fontTools' cmap of the face holds 园, 区, 亿 and 元."""
    try:
        with TTFont(path, fontNumber=index, lazy=True) as tt:
            cmap = tt.getBestCmap() or {}
    except Exception:
        return False
    return all(ord(ch) in cmap for ch in "园区亿元")


def _sc_face_index(path: Path) -> int:
    collection = TTCollection(str(path), lazy=True)
    names = [face["name"].getDebugName(1) for face in collection.fonts]
    collection.close()
    return names.index("Noto Sans CJK SC")


def _clear_findfont_cache() -> None:
    clear = getattr(
        getattr(font_manager.fontManager, "_findfont_cached", None), "cache_clear", None
    )
    if clear is not None:
        clear()


@pytest.fixture
def font_list(monkeypatch):
    """matplotlib's font list without any Chinese font; no installed fonts to discover."""
    manager = font_manager.fontManager
    cjk_free = [
        e for e in manager.ttflist if not _face_draws_chinese(e.fname, getattr(e, "index", 0))
    ]
    monkeypatch.setattr(manager, "ttflist", cjk_free)
    monkeypatch.setattr(fonts, "_system_font_files", lambda: ())
    _clear_findfont_cache()
    yield manager
    monkeypatch.undo()
    _clear_findfont_cache()


def _same_font_elsewhere(folder: Path) -> Path:
    """The bundled collection under another path, as if installed elsewhere."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "NotoSansCJK-Regular.ttc"
    try:
        os.link(BUNDLED, target)
    except OSError:
        shutil.copyfile(BUNDLED, target)
    return target


def _one_error_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: ")
    return lines[0]


def _pdf_text(path: Path) -> str:
    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


# --- choosing the font ------------------------------------------------------------------------


def test_bundled_font_is_found_where_pip_put_it():
    assert fonts.bundled_font_path().resolve() == BUNDLED.resolve()


def test_bundled_font_is_used_when_no_system_font_exists(font_list):
    font = fonts.find_cjk_font()
    assert font.path.resolve() == BUNDLED.resolve()
    assert font.family == "Noto Sans CJK SC"
    assert font.index == _sc_face_index(BUNDLED)  # the simplified-Chinese face of the collection
    with TTFont(str(BUNDLED), fontNumber=font.index, lazy=True) as tt:
        assert tt.sfntVersion == "OTTO"  # CFF outlines
    assert font.pdf_fonttype == 3
    # registered with matplotlib: the family resolves to that face of that file
    found = font_manager.findfont(
        font_manager.FontProperties(family="Noto Sans CJK SC"), fallback_to_default=False
    )
    assert Path(found).resolve() == BUNDLED.resolve()
    assert found.face_index == font.index


def test_system_font_is_preferred_over_the_bundled_one(font_list, tmp_path):
    system = _same_font_elsewhere(tmp_path / "usr-share-fonts")
    font_list.addfont(str(system))  # a system font matplotlib's cache knows
    font = fonts.find_cjk_font()
    assert font.path == system
    assert font.family == "Noto Sans CJK SC"


def test_font_installed_after_matplotlib_cached_its_list_is_found(font_list, monkeypatch, tmp_path):
    system = _same_font_elsewhere(tmp_path / "new-fonts")
    latin = tmp_path / "new-fonts" / "Latin.ttf"
    shutil.copyfile(DEJAVU, latin)
    monkeypatch.setattr(fonts, "_system_font_files", lambda: (str(latin), str(system)))
    assert not [e for e in font_list.ttflist if Path(e.fname) == system]
    font = fonts.find_cjk_font()
    assert font.path == system
    known = {Path(e.fname) for e in font_list.ttflist}
    assert system in known
    assert latin not in known  # only fonts that draw Chinese are added


def test_installed_chinese_fonts_are_listed_with_fontconfig(monkeypatch, tmp_path):
    calls = tmp_path / "calls.txt"
    fake = tmp_path / "bin" / "fc-list"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\necho /fonts/a.ttc\necho /fonts/b.otf\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("MPL_IGNORE_SYSTEM_FONTS", raising=False)
    fonts._fc_list_chinese.cache_clear()
    try:
        assert fonts._system_font_files() == ("/fonts/a.ttc", "/fonts/b.otf")
    finally:
        fonts._fc_list_chinese.cache_clear()
    assert ":lang=zh" in calls.read_text().split()


def test_font_option_wins_over_system_and_bundled_fonts(font_list, tmp_path):
    font_list.addfont(str(_same_font_elsewhere(tmp_path / "system")))
    mine = _same_font_elsewhere(tmp_path / "mine")
    setup = fonts.font_setup("zh", mine)
    assert setup.font.path == mine
    with setup.use():
        found = font_manager.findfont(font_manager.FontProperties(family=setup.font.family))
    assert Path(found) == Path(os.path.realpath(mine))


def test_latin_font_option_with_english_keeps_a_chinese_font_behind_it(font_list):
    setup = fonts.font_setup("en", DEJAVU)
    assert setup.first.family == "DejaVu Sans"
    assert setup.font.path.resolve() == BUNDLED.resolve()
    assert setup.rc()["font.family"] == ["DejaVu Sans", "Noto Sans CJK SC"]
    assert setup.rc()["pdf.fonttype"] == 3  # one CFF font: every font as Type 3


def test_latin_font_option_with_chinese_labels_is_refused():
    with pytest.raises(InputError, match="cannot draw Chinese"):
        fonts.font_setup("zh", DEJAVU)


# --- the CLI: one line, exit status 2 -----------------------------------------------------------


@pytest.mark.parametrize("command", ["export", "cluster"])
def test_font_option_that_is_not_a_font_is_one_error_line(command, tmp_path):
    fake = tmp_path / "字体.ttf"
    fake.write_text("not a font", encoding="utf-8")
    result = CliRunner().invoke(main, [command, "--out", str(tmp_path / "o"), "--font", str(fake)])
    assert result.exit_code == 2
    line = _one_error_line(result.output)
    assert "not a font" in line and str(fake) in line
    assert not (tmp_path / "o").exists()


def test_font_option_missing_file_is_one_error_line(tmp_path):
    missing = tmp_path / "nope.otf"
    result = CliRunner().invoke(main, ["export", "--out", str(tmp_path), "--font", str(missing)])
    assert result.exit_code == 2
    assert "no such file" in _one_error_line(result.output)


def test_font_option_without_chinese_glyphs_is_one_error_line_for_zh(tmp_path):
    result = CliRunner().invoke(main, ["export", "--out", str(tmp_path), "--font", str(DEJAVU)])
    assert result.exit_code == 2
    line = _one_error_line(result.output)
    assert "cannot draw Chinese" in line and "--lang en" in line


@pytest.mark.parametrize("command", ["export", "cluster"])
def test_no_chinese_font_at_all_is_one_error_line_naming_the_fix(
    command, font_list, monkeypatch, tmp_path
):
    monkeypatch.setattr(fonts, "bundled_font_path", lambda: None)  # the pip font is missing
    result = CliRunner().invoke(main, [command, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    line = _one_error_line(result.output)
    assert "pip install noto-cjk-sans-otc" in line
    assert "--font PATH" in line and "--lang en" in line
    assert not (tmp_path / "o").exists()


# --- text drawn as given ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    return analyse()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_title_is_kept_verbatim_and_chinese_names_are_drawn(demo, tmp_path, lang):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = export_all(
            demo,
            tmp_path,
            formats="pdf",
            dpi=50,
            atlas=lang == "en",
            tables=False,
            title=TITLE,
            lang=lang,
        )
    assert not [w for w in caught if "missing from font" in str(w.message).lower()]
    assert result.lang == lang and result.warnings == []
    text = _pdf_text(tmp_path / "map.pdf")
    assert TITLE in text
    if lang == "zh":
        for name in PARK_NAMES:
            assert name in text
    else:  # English labels; Chinese project names from the data stay in the atlas tables
        atlas = _pdf_text(tmp_path / "atlas.pdf")
        assert TITLE in atlas
        assert "Park investment density" in text
        assert "北京汽车制造厂" in atlas  # the largest project (150 亿元), in 莱西姜山
        assert "示例项目" in atlas


def test_ripley_plots_draw_chinese(demo, tmp_path):
    from parkmap.cluster import cluster_analysis
    from parkmap.cluster.report import write_cluster_report

    result = cluster_analysis(demo.projects, demo.parks, permutations=9, simulations=9, seed=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        written = write_cluster_report(result, tmp_path, lang="zh")
    plots = [p for name, p in written.items() if name.startswith("plot_")]
    assert plots and all(p.stat().st_size > 0 for p in plots)
    assert not [w for w in caught if "missing from font" in str(w.message).lower()]


def test_bad_font_stops_the_cluster_command_before_it_reads(tmp_path, monkeypatch):
    from parkmap import pipeline
    from parkmap.settings import ClusterOptions

    def boom(*args, **kwargs):
        raise AssertionError("data read before the font was checked")

    monkeypatch.setattr(pipeline, "analyse", boom)
    with pytest.raises(InputError, match="cannot draw Chinese"):
        pipeline.cluster(ClusterOptions(out=tmp_path, lang="zh", font=DEJAVU))


# --- a fresh Python process: empty and stale matplotlib caches ---------------------------------

STALE_CACHE = """
from pathlib import Path
import matplotlib
from matplotlib import font_manager, ft2font

def draws_chinese(entry):
    try:
        face = ft2font.FT2Font(entry.fname, face_index=getattr(entry, "index", 0))
    except Exception:
        return False
    return all(face.get_char_index(ord(ch)) for ch in "园区")

manager = font_manager.fontManager
manager.ttflist = [e for e in manager.ttflist if not draws_chinese(e)]
path = Path(matplotlib.get_cachedir(), f"fontlist-v{font_manager.FontManager.__version__}.json")
font_manager.json_dump(manager, path)
print(path)
"""


def _python(args: list[str], config: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPLCONFIGDIR": str(config)}
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=900
    )


def _export_in_fresh_process(config: Path, tmp_path: Path) -> Path:
    out = tmp_path / "简报"
    done = _python(
        [
            "-m",
            "parkmap.cli",
            "export",
            "--out",
            str(out),
            "--format",
            "pdf",
            "--dpi",
            "50",
            "--title",
            TITLE,
        ],
        config,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "missing from font" not in done.stderr.lower()
    assert "warning: no font" not in done.stderr
    return out


def _assert_chinese_in_pdfs(out: Path) -> None:
    for name in ("map.pdf", "atlas.pdf"):
        text = _pdf_text(out / name)
        assert TITLE in text, name
        for park in PARK_NAMES:
            assert park in text, (name, park)


@pytest.mark.slow
def test_export_in_a_fresh_process_with_an_empty_matplotlib_cache(tmp_path):
    config = tmp_path / "mplconfig"
    config.mkdir()
    out = _export_in_fresh_process(config, tmp_path)
    assert list(config.glob("fontlist-v*.json"))  # matplotlib built its cache in there
    _assert_chinese_in_pdfs(out)


@pytest.mark.slow
def test_export_in_a_fresh_process_with_a_stale_matplotlib_cache(tmp_path):
    config = tmp_path / "mplconfig"
    config.mkdir()
    made = _python(["-c", STALE_CACHE], config, tmp_path)
    assert made.returncode == 0, made.stderr
    cache = Path(made.stdout.strip())
    assert cache.parent == config and cache.name.startswith("fontlist-v")
    entries = json.loads(cache.read_text(encoding="utf-8"))["ttflist"]
    assert entries and not [
        e for e in entries if _face_draws_chinese(e["fname"], e.get("index", 0))
    ]
    before = cache.stat().st_mtime_ns
    out = _export_in_fresh_process(config, tmp_path)
    assert cache.stat().st_mtime_ns == before  # matplotlib used the stale cache, did not rebuild
    _assert_chinese_in_pdfs(out)
