"""Values that are code, field names or a second encoding of a reported secret give no extra finding."""

from __future__ import annotations

from scan_cli import leakhunt_fixture  # noqa: F401 - the fixture `leakhunt`

CODE_FILES = {
    "vendor/jquery.min.js": "b.pseudos.eq,{radio:!0,checkbox:!0,file:!0,password:!0,image:!0})b.pseudos[e]=B(e);\n",
    "vendor/regex.js": "        dollarToken = +dollarToken; // `$n` references\n",
    "app/forms.py": (
        "def clean(self, password1, password2):\n"
        "    if password1 and password2 and password1 != password2:\n"
        "        raise ValueError\n"
        '    self.validate_passwords("new_password1", "new_password2")\n'
    ),
}


def test_code_values_give_no_finding(leakhunt, tmp_path):
    for relative, text in CODE_FILES.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    run, report = leakhunt.scan_json(tmp_path)

    assert report["findings"] == []
    assert run.returncode == 0


def documented_sas_token(signature: str) -> str:
    """Return a service description whose HTML documentation shows a SAS token with `signature`."""
    token = (
        "sp=r&amp;st=2023-12-20T14:54:52Z&amp;se=2023-12-20T22:54:52Z&amp;spr=https"
        f"&amp;sv=2021-06-08&amp;sr=c&amp;sig={signature}"
    )
    return f'{{\n  "documentation": "<p>A token looks like <code>{token}</code></p>"\n}}\n'


def test_percent_encoded_secret_reported_once(leakhunt, tmp_path):
    signature = "Qm9ndXMrU2lnbmF0dXJl%2FRm9yVGVzdHM%2F%2FT25seTEy%2BMw%3D"
    (tmp_path / "service.json").write_text(documented_sas_token(signature))

    run, report = leakhunt.scan_json(tmp_path)

    rows = [(finding["path"], finding["line"], finding["rule"], finding["secret"]) for finding in report["findings"]]
    assert rows == [("service.json", 2, "azure-sas-token", signature)]
    assert run.returncode == 1


def test_documented_samples_give_no_finding(leakhunt, tmp_path):
    (tmp_path / "service-2.json").write_text(documented_sas_token("aBBKDWQvyuVcTPH9EBp%2FXTI9E%2F%2Fmq171%2BZU178wcwqU%3D"))
    (tmp_path / "examples-1.json").write_text(
        '{\n  "ChangePassword": [{"input": {"NewPassword": "]35d/{pB9Fo9wJ", "OldPassword": "3s0K_;xh4~8XXI"}}],\n'
        '  "CreateLoginProfile": [{"input": {"Password": "h]6EszR}vJ*m", "UserName": "Bob"}}]\n}\n'
    )
    (tmp_path / "engines.py").write_text('engine = create_engine("mssql+pyodbc://scott:tiger^5HHH@mssql2017:1433/test")\n')

    run, report = leakhunt.scan_json(tmp_path)

    assert report["findings"] == []
    assert run.returncode == 0
