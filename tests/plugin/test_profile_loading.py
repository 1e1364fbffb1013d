"""Profiles: merging, interpolation, secrets, and one clear line for every mistake."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from lockstep.config.errors import ConfigError
from lockstep.config.profile import load_profile
from lockstep.salesforce.errors import Secret, redact
from lockstep.session.orgs import select_orgs

JWT_ORG = """\
orgs:
  - name: prod-emea
    kind: production
    auth: {method: jwt, client_id: abc, username: ci@acme.example, private_key_file: keys/ci.key}
"""


def write(root: Path, name: str, text: str) -> Path:
    path = root / "profiles" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def load(root: Path, text: str, environ: dict[str, str] | None = None, name: str = "p.yaml"):
    write(root, name, text)
    return load_profile(name.removesuffix(".yaml"), root, environ=environ or {})


def error_of(root: Path, text: str, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load(root, text, environ)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_loads_orgs_sorted_with_defaults(tmp_path: Path) -> None:
    profile = load(tmp_path, """\
        description: two orgs
        orgs:
          - {name: zeta, kind: sandbox, tags: [emea], auth: {method: sf_cli, alias: zeta}}
          - {name: alpha, kind: production, auth: {method: sf_cli, alias: alpha}}
        """)
    assert [o.name for o in profile.orgs] == ["alpha", "zeta"]
    alpha, zeta = profile.orgs
    assert alpha.is_production and not alpha.allow_writes
    assert zeta.allow_writes and zeta.tags == ("emea",)
    assert alpha.auth.method == "sf_cli" and alpha.auth.get("alias") == "alpha"
    assert profile.name == "p" and profile.description == "two orgs"


def test_extends_deep_merges_and_merges_orgs_by_name(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", """\
        expect: {packages: {acme: {version: "1.0"}, dlrs: {min_version: "2.0"}}, flows: {A: {active: true}}}
        orgs:
          - {name: prod, kind: production, tags: [a], auth: {method: sf_cli, alias: prod}}
          - {name: uat, kind: staging, auth: {method: sf_cli, alias: uat}}
        """)
    profile = load(tmp_path, """\
        extends: base.yaml
        expect: {packages: {acme: {version: "2.0"}}}
        orgs:
          - name: prod
            tags: [b]
            expect: {packages: {dlrs: null}, flows: {B: {active: false}}}
          - {name: sub, kind: subscriber, auth: {method: sf_cli, alias: sub}}
        """)
    assert [o.name for o in profile.orgs] == ["prod", "sub", "uat"]
    prod = profile.org("prod")
    assert prod.kind == "production" and prod.tags == ("b",)
    assert dict(prod.expect["packages"]) == {"acme": {"version": "2.0"}}
    assert set(prod.expect["flows"]) == {"A", "B"}
    assert profile.org("uat").expect["packages"]["dlrs"]["min_version"] == "2.0"


def test_an_override_with_another_auth_method_replaces_the_auth(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", JWT_ORG)
    profile = load(tmp_path, "extends: base.yaml\norgs:\n  - {name: prod-emea, auth: {method: sf_cli, alias: prod}}\n")
    auth = profile.org("prod-emea").auth
    assert auth.method == "sf_cli" and dict(auth.options) == {"alias": "prod"}


def test_env_interpolation_and_file_secrets(tmp_path: Path) -> None:
    (tmp_path / "profiles" / "secrets").mkdir(parents=True)
    (tmp_path / "profiles" / "secrets" / "pw").write_text("s3cr3t-from-file\n")
    profile = load(tmp_path, """\
        orgs:
          - name: qa
            kind: sandbox
            auth:
              method: password
              client_id: ${CLIENT_ID}
              username: ${SF_USER:-ci@acme.example}
              password: file:secrets/pw
              security_token: ${SF_TOKEN}
              login_url: https://test.salesforce.com
        """, {"CLIENT_ID": "3MVGabc", "SF_TOKEN": "tok-12345"})
    auth = profile.org("qa").auth
    assert auth.get("client_id") == "3MVGabc"
    assert auth.get("username") == "ci@acme.example"
    assert isinstance(auth.get("password"), Secret) and auth.get("password").reveal() == "s3cr3t-from-file"
    assert auth.get("security_token").reveal() == "tok-12345"
    assert "s3cr3t" not in repr(profile) and "tok-12345" not in repr(profile)
    assert redact("login failed for tok-12345") == "login failed for ***"


def test_paths_are_relative_to_the_declaring_file(tmp_path: Path) -> None:
    (tmp_path / "profiles" / "states").mkdir(parents=True)
    (tmp_path / "profiles" / "keys").mkdir()
    (tmp_path / "profiles" / "keys" / "ci.key").write_text("not a real key\n")
    profile = load(tmp_path, "emulator: states\n" + JWT_ORG)
    assert profile.emulator == (tmp_path / "profiles" / "states").resolve()
    key_file = (tmp_path / "profiles" / "keys" / "ci.key").resolve()
    assert profile.org("prod-emea").auth.get("private_key_file") == key_file
    assert profile.org("prod-emea").auth.method == "jwt"



def test_a_probes_ca_file_is_relative_to_the_file_that_names_it(tmp_path: Path) -> None:
    """Like the auth files: the profile means the same wherever pytest is started."""
    write(tmp_path, "base/shared.yaml", """\
        expect:
          probes:
            erp: {url: "https://erp.example.com/health", ca_file: certs/erp-ca.pem}
        """)
    profile = load(tmp_path, """\
        extends: base/shared.yaml
        orgs:
          - name: qa
            kind: sandbox
            auth: {method: sf_cli, alias: qa}
            expect:
              probes:
                crm: {url: "https://crm.example.com/health", ca_file: ../ca/crm.pem}
        """)
    probes = profile.org("qa").expect["probes"]
    assert probes["erp"]["ca_file"] == str(tmp_path / "profiles" / "base" / "certs" / "erp-ca.pem")
    assert probes["crm"]["ca_file"] == str(tmp_path / "profiles" / ".." / "ca" / "crm.pem")

def test_emulator_profiles_default_to_emulator_auth(tmp_path: Path) -> None:
    (tmp_path / "profiles" / "states").mkdir(parents=True)
    profile = load(tmp_path, "emulator: states\norgs: [{name: dev, kind: dev}]\n")
    assert profile.org("dev").auth.method == "emulator"


def test_content_hash_is_stable_and_ignores_secret_values(tmp_path: Path) -> None:
    text = """\
        orgs: [{name: qa, kind: sandbox, auth: {method: access_token, access_token: "${T}", instance_url: "https://x"}}]
        """
    first = load(tmp_path, text, {"T": "token-one"}).sha256
    assert load(tmp_path, text, {"T": "token-two"}).sha256 == first
    assert load(tmp_path, text.replace("sandbox", "staging"), {"T": "token-one"}).sha256 != first
    assert len(first) == 64


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("orgz: []\n", "profiles/p.yaml: orgz: unknown key (did you mean 'orgs'?)"),
        ("orgs:\n  - {name: prod, kind: production, tagz: [a]}\n",
         "profiles/p.yaml: orgs[prod].tagz: unknown key (did you mean 'tags'?)"),
        (JWT_ORG.replace("method: jwt", "method: jwtt"),
         "profiles/p.yaml: orgs[prod-emea].auth.method: unknown value 'jwtt' (did you mean 'jwt'?)"),
        ("orgs:\n  - {name: qa, kind: sandbx, auth: {method: sf_cli, alias: qa}}\n",
         "profiles/p.yaml: orgs[qa].kind: unknown value 'sandbx' (did you mean 'sandbox'?)"),
        ("orgs:\n  - {name: qa, kind: sandbox, auth: {method: password, client_id: x, username: u, "
         "password: hunter22}}\n",
         "profiles/p.yaml: orgs[qa].auth.password: secrets must be references (${ENV_VAR} or "
         "file:<path>), not literal text"),
        ("orgs:\n  - {name: qa, kind: sandbox, auth: {method: sf_cli, alias: a}}\n"
         "  - {name: qa, kind: staging, auth: {method: sf_cli, alias: b}}\n",
         "profiles/p.yaml: orgs[qa]: duplicate org name 'qa'"),
        ("orgs:\n  - {name: qa, kind: sandbox, tags: emea, auth: {method: sf_cli, alias: a}}\n",
         "profiles/p.yaml: orgs[qa].tags: expected a list of strings, got string"),
        ("orgs:\n  - {name: qa, kind: sandbox, allow_writes: 'yes', auth: {method: sf_cli, alias: a}}\n",
         "profiles/p.yaml: orgs[qa].allow_writes: expected true or false, got string"),
        ("expect: [1]\norgs: []\n", "profiles/p.yaml: expect: expected a mapping, got list"),
        ("orgs:\n  - {name: qa, auth: {method: sf_cli, alias: a}}\n",
         "profiles/p.yaml: orgs[qa]: missing required key 'kind'"),
        ("orgs:\n  - {name: qa, kind: sandbox}\n", "profiles/p.yaml: orgs[qa]: missing required key 'auth'"),
        (JWT_ORG.replace("username: ci@acme.example, ", ""),
         "profiles/p.yaml: orgs[prod-emea].auth: missing required key 'username' for method 'jwt'"),
        (JWT_ORG.replace("username:", "usernme:"),
         "profiles/p.yaml: orgs[prod-emea].auth.usernme: unknown key (did you mean 'username'?)"),
        ("orgs:\n  - {name: 'bad name', kind: sandbox}\n",
         "profiles/p.yaml: orgs[bad name].name: invalid org name 'bad name' (use letters, digits, '.', '_', '-')"),
        ("extends: nope.yaml\norgs: []\n", "profiles/p.yaml: extends: no such file: nope.yaml"),
        ("orgs: []\n", "profiles/p.yaml: orgs: the profile declares no orgs"),
        ("- just\n- a list\n", "profiles/p.yaml: a profile must be a mapping, got list"),
        (JWT_ORG.replace("private_key_file: keys/ci.key",
                         "private_key_file: keys/ci.key, login_url: '${emulator.url}'"),
         "profiles/p.yaml: orgs[prod-emea].auth.login_url: ${emulator.url} is not an environment variable reference "
         "(use ${ENV_VAR} or ${ENV_VAR:-default})"),
        (JWT_ORG.replace("keys/ci.key", "'keys/${KEY_NAME'"),
         "profiles/p.yaml: orgs[prod-emea].auth.private_key_file: ${KEY_NAME is not an environment variable reference "
         "(use ${ENV_VAR} or ${ENV_VAR:-default})"),
        (JWT_ORG, "profiles/p.yaml: orgs[prod-emea].auth.private_key_file: no such file: profiles/keys/ci.key"),
        ("orgs:\n  - {name: qa, kind: sandbox, auth: {method: client_credentials, client_id: a, "
         "client_secret: '${S}', login_url: 'http://acme.my.salesforce.com'}}\n",
         "profiles/p.yaml: orgs[qa].auth.login_url: expected an https:// URL, found 'http://acme.my.salesforce.com'"),
        ("orgs:\n  - {name: qa, kind: sandbox, auth: {method: access_token, access_token: '${T}', "
         "instance_url: 'acme.my.salesforce.com'}}\n",
         "profiles/p.yaml: orgs[qa].auth.instance_url: expected an https:// URL, found 'acme.my.salesforce.com'"),
        ("orgs:\n  - {name: qa, kind: sandbox, auth: {method: emulator, url: 'https://127.0.0.1:1', "
         "ca_file: ca.pem}}\n",
         "profiles/p.yaml: orgs[qa].auth.ca_file: no such file: profiles/ca.pem"),
        ("release: {upstream: {profile: staging, gate_file: g.json, allow_partial: 'yes'}}\n"
         "orgs:\n  - {name: qa, kind: sandbox, auth: {method: sf_cli, alias: a}}\n",
         "profiles/p.yaml: release.upstream.allow_partial: expected true or false, got 'yes'"),
    ],
)
def test_profile_mistakes_give_one_line(tmp_path: Path, text: str, expected: str) -> None:
    assert error_of(tmp_path, text, {"S": "client-secret-value", "T": "00Dxx!access-token"}) == expected


def test_env_references_and_https_urls_from_the_environment_load(tmp_path: Path) -> None:
    (tmp_path / "profiles" / "keys").mkdir(parents=True)
    (tmp_path / "profiles" / "keys" / "ci.key").write_text("not a real key\n")
    profile = load(tmp_path, JWT_ORG.replace("keys/ci.key", "'keys/${KEY:-ci.key}', login_url: '${SF_LOGIN_URL}'"),
                   {"SF_LOGIN_URL": "https://test.salesforce.com"})
    assert profile.org("prod-emea").auth.get("login_url") == "https://test.salesforce.com"


def test_upstream_allow_partial_is_accepted(tmp_path: Path) -> None:
    profile = load(tmp_path, "release: {upstream: {profile: staging, gate_file: g.json, allow_partial: true}}\n"
                             "orgs:\n  - {name: qa, kind: sandbox, auth: {method: sf_cli, alias: a}}\n")
    assert profile.release["upstream"]["allow_partial"] is True


@pytest.mark.parametrize(("auth", "message"), [
    ("{method: client_credentials, client_id: a, client_secret: '${S}', login_url: '${emulator.url}'}",
     "orgs[qa].auth.login_url: ${emulator.url} is not an environment variable reference "
     "(use ${ENV_VAR} or ${ENV_VAR:-default})"),
    ("{method: jwt, client_id: a, username: u, private_key_file: keys/missing.key}",
     "orgs[qa].auth.private_key_file: no such file: profiles/keys/missing.key"),
])
def test_auth_mistakes_are_usage_errors(pytester: pytest.Pytester, auth: str, message: str) -> None:
    pytester.makeini("[pytest]\nlockstep_catalog = none\n")
    pytester.mkdir("profiles")
    (pytester.path / "profiles" / "p.yaml").write_text(f"orgs:\n  - {{name: qa, kind: sandbox, auth: {auth}}}\n")
    pytester.makepyfile(test_a="def test_one(org):\n    pass\n")
    result = pytester.runpytest("--org-profile", "p", "-p", "no:cacheprovider")
    assert result.ret == 4
    assert [line for line in result.errlines if line.strip()] == [f"ERROR: profiles/p.yaml: {message}"]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_literal_secret_is_not_echoed(tmp_path: Path) -> None:
    message = error_of(tmp_path, "orgs:\n  - {name: qa, kind: sandbox, auth: {method: access_token, "
                                 "access_token: 00Dabc!XYZsecret, instance_url: https://x}}\n")
    assert "XYZsecret" not in message


def test_missing_env_var_names_file_org_key_and_variable(tmp_path: Path) -> None:
    message = error_of(tmp_path, """\
        orgs:
          - name: prod-emea
            kind: production
            auth: {method: client_credentials, client_id: abc, client_secret: "${SF_SECRET}", login_url: https://acme.my.salesforce.com}
        """)
    assert message == "profiles/p.yaml: orgs[prod-emea].auth.client_secret: environment variable SF_SECRET is not set"


def test_yaml_syntax_error_has_the_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, "orgs:\n  - name: qa\n    kind: [sandbox\n")
    assert message.startswith("profiles/p.yaml: YAML syntax error at line ")
    assert "line 4" in message or "line 3" in message


def test_error_in_base_file_names_the_base_file(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", "orgs:\n  - {name: qa, kind: sandbox, auth: {method: sf_cli, alais: qa}}\n")
    message = error_of(tmp_path, "extends: base.yaml\n")
    assert message == "profiles/base.yaml: orgs[qa].auth.alais: unknown key (did you mean 'alias'?)"


def test_unknown_profile_lists_available_ones(tmp_path: Path) -> None:
    write(tmp_path, "prod.yaml", "orgs: []\n")
    write(tmp_path, "staging.yaml", "orgs: []\n")
    with pytest.raises(ConfigError) as info:
        load_profile("prdo", tmp_path)
    assert str(info.value) == (
        "--org-profile: unknown profile 'prdo' (did you mean 'prod'?); available profiles in profiles/: prod, staging"
    )


def test_select_orgs_by_name_glob_and_tag(tmp_path: Path) -> None:
    profile = load(tmp_path, """\
        orgs:
          - {name: prod-emea, kind: production, tags: [emea], auth: {method: sf_cli, alias: a}}
          - {name: prod-us, kind: production, tags: [us], auth: {method: sf_cli, alias: b}}
          - {name: uat, kind: staging, tags: [emea], auth: {method: sf_cli, alias: c}}
        """)
    assert [o.name for o in select_orgs(profile, "uat,prod-us")] == ["prod-us", "uat"]
    assert [o.name for o in select_orgs(profile, "tag:emea")] == ["prod-emea", "uat"]
    assert [o.name for o in select_orgs(profile, "prod-*")] == ["prod-emea", "prod-us"]
    assert select_orgs(profile, None) == profile.orgs
    with pytest.raises(ConfigError,
                       match=r"^--orgs: no org named 'prod-eu' in profile 'p' \(did you mean 'prod-us'\?\)"):
        select_orgs(profile, "prod-eu")
    with pytest.raises(ConfigError, match=r"^--orgs: no org of profile 'p' has tag 'apac'; tags: emea, us$"):
        select_orgs(profile, "tag:apac")
