import shutil

from lab import composefile


def test_committed_files_match_the_catalogue():
    assert composefile.check(composefile.ROOT) == []


def test_drift_is_detected_and_write_repairs_it(tmp_path):
    for name in (composefile.MAIN, composefile.IPV6):
        shutil.copy(composefile.ROOT / name, tmp_path / name)
    main = tmp_path / composefile.MAIN
    main.write_text(main.read_text().replace("host_ip: 127.0.0.1", "host_ip: 0.0.0.0", 1))
    (tmp_path / composefile.IPV6).unlink()
    drift = composefile.check(tmp_path)
    assert [(d.path.name, d.reason) for d in drift] == [("compose.yaml", "differs"), ("compose.ipv6.yaml", "missing")]
    assert sorted(p.name for p in composefile.write(tmp_path)) == ["compose.ipv6.yaml", "compose.yaml"]
    assert composefile.check(tmp_path) == []


def test_generated_yaml_has_no_anchors_though_the_model_shares_objects():
    """The model reuses one healthcheck list for every service: plain PyYAML would write &id001/*id001."""
    import yaml

    from lab.compose_model import compose_model

    model = compose_model()
    assert "&id001" in yaml.safe_dump(model)  # what the custom dumper prevents
    text = composefile.render(model)
    assert "&id" not in text and "*id" not in text
