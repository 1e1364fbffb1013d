"""The commented example profiles in profiles/examples/ load as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockstep.config.profile import load_profile

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (REPO / "profiles" / "examples").glob("*.yaml") if p.name != "base.yaml")
SECRET = "s3cr3t-value"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_profile_loads(path: Path, tmp_path: Path) -> None:
    key = tmp_path / "ci.key"
    key.write_text("not a real key\n")
    environ = {"SF_CLIENT_ID": "3MVG9example", "SF_JWT_KEY_FILE": str(key), "ACME_APP_ID": "3MVG9app",
               "ACME_APP_SECRET": SECRET, "SF_AUTH_URL_STAGING": "force://PlatformCLI::5Aep861token@acme--staging.sandbox.my.salesforce.com"}
    profile = load_profile(path, REPO, environ=environ)
    assert profile.orgs
    for org in profile.orgs:
        assert org.auth.method in {"jwt", "sfdx_url", "sf_cli", "client_credentials"}
        assert SECRET not in repr(org) and "5Aep861token" not in repr(org)


def test_stage_profiles_share_the_base_expectations() -> None:
    environ = {"SF_CLIENT_ID": "id", "SF_JWT_KEY_FILE": str(REPO / "README.md"),
               "SF_AUTH_URL_STAGING": "force://PlatformCLI::5Aep861token@acme--staging.sandbox.my.salesforce.com"}
    prod = load_profile(REPO / "profiles/examples/prod.yaml", REPO, environ=environ)
    staging = load_profile(REPO / "profiles/examples/staging.yaml", REPO, environ=environ)
    assert prod.org("prod-emea").expect["packages"]["acme_cpq"]["version"] == "2.5.0.1"
    assert staging.org("qa").expect["api_headroom"]["min_remaining_percent"] == 5
    assert staging.org("staging").expect["api_headroom"]["min_remaining_percent"] == 20
