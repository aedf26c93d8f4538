"""A framework that is not installed is a skip line with the install command, never a crash."""

import json
import subprocess
import sys

from conftest import PYTHON_DIR
from tensorbench_peers import frameworks
from tensorbench_peers.__main__ import main
from tensorbench_peers.protocol import read_measurements


def hide(monkeypatch, module):
    """Makes `import module` fail as it does when the package is not installed."""
    monkeypatch.setitem(sys.modules, module, None)
    for name in list(sys.modules):
        if name.startswith("tensorbench_peers.frameworks."):
            monkeypatch.delitem(sys.modules, name)


def test_missing_torch_is_a_skip_line(monkeypatch, small_specs, write_json, tmp_path):
    hide(monkeypatch, "torch")
    out = tmp_path / "m.jsonl"
    code = main(["--workloads", str(write_json("w.json", small_specs)), "--out", str(out),
                 "--peers", "numpy,torch"])
    ms = read_measurements(out)
    torch_lines = [m for m in ms if m["backend"] == "torch"]
    assert code == 0 and len(torch_lines) == 5
    for m in torch_lines:
        assert m["status"] == "skipped" and m["reason"] == "torch is not installed: pip install torch"
        assert m["id"].startswith("peers/") and "/torch/" in m["id"]
    assert all(m["status"] == "ok" for m in ms if m["backend"] == "numpy")


def test_missing_jax_names_its_install_command(monkeypatch):
    hide(monkeypatch, "jax")
    fw, reason = frameworks.load("jax")
    assert fw is None and reason == "jax is not installed: pip install 'jax[cpu]'"


def test_without_numpy_every_line_is_skipped(small_specs, write_json):
    script = (
        "import sys; sys.modules['numpy'] = None\n"
        "from tensorbench_peers.__main__ import main\n"
        f"sys.exit(main(['--workloads', {str(write_json('w.json', small_specs))!r}, '--out', '-']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=PYTHON_DIR,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(lines) == 15  # 5 distinct workloads x 3 frameworks
    assert all(m["status"] == "skipped" and "numpy is not installed" in m["reason"] for m in lines)
