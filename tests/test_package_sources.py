"""Which package sources uv is given: uv.toml's, or pip's where pip keeps the CPU build of torch on disk."""

from scripts.commands.package_sources import pip_settings, torch_pins, uv_options

LISTING = """\
:env:.find-links='/srv/wheels'
global.cert='/etc/ssl/certs/ca-certificates.crt'
global.extra-index-url='file:///srv/pypi/simple file:///srv/more/simple'
global.find-links='/srv/wheels'
"""


def test_pip_settings_split_values_and_merge_places():
    settings = pip_settings(LISTING)
    assert settings["find-links"] == ["/srv/wheels"]
    assert settings["extra-index-url"] == ["file:///srv/pypi/simple", "file:///srv/more/simple"]


def test_torch_pins_come_from_the_lock_files(tmp_path):
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "a.lock").write_text("numpy==2.3.5\ntorch==2.13.0+cpu\n")
    (tmp_path / "requirements" / "b.lock").write_text("torchao==0.18.0\n")
    assert torch_pins(tmp_path) == {"2.13.0+cpu"}


def test_uv_keeps_its_own_sources_where_pip_has_no_local_torch(tmp_path):
    settings = {"find-links": [str(tmp_path)], "extra-index-url": ["file:///srv/pypi/simple"]}
    assert uv_options(settings, {"2.13.0+cpu"}) == []
    assert uv_options({}, {"2.13.0+cpu"}) == []


def test_uv_takes_pips_sources_where_they_hold_every_pinned_torch(tmp_path):
    (tmp_path / "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl").touch()
    settings = {"find-links": [str(tmp_path)], "extra-index-url": ["file:///srv/pypi/simple"]}
    assert uv_options(settings, {"2.13.0+cpu"}) == [
        "--no-config", "--index-strategy", "unsafe-best-match",
        "--find-links", str(tmp_path), "--extra-index-url", "file:///srv/pypi/simple"]
    assert uv_options(settings, {"2.13.0+cpu", "2.14.0+cpu"}) == []
