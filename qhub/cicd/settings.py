"""What every generated workflow shares: file names, pinned actions, runner, production stacks."""

from __future__ import annotations

PULL_REQUEST_WORKFLOW = ".github/workflows/pull-request.yml"
DEPLOY_WORKFLOW = ".github/workflows/deploy.yml"
IMAGES_WORKFLOW = ".github/workflows/images.yml"

# Every action the workflows use, pinned to the commit of a release tag (a tag can be moved; a
# commit cannot). The tag is written beside the commit so Dependabot and Renovate can bump both.
# Resolved from the actions' own repositories (`git rev-parse TAG^{commit}`).
ACTIONS: dict[str, tuple[str, str]] = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    "pulumi/actions": ("8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0"),
    "aws-actions/configure-aws-credentials": ("e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"),
    "google-github-actions/auth": ("7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", "v3.0.0"),
    "azure/login": ("f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca", "v3.0.1"),
    "docker/setup-buildx-action": ("37fe631027851001ddb9b187196cc803df7f5f0e", "v4.3.0"),
    "docker/metadata-action": ("dc802804100637a589fabce1cb79ff13a1411302", "v6.2.0"),
    "docker/build-push-action": ("53b7df96c91f9c12dcc8a07bcb9ccacbed38856a", "v7.3.0"),
}

PYTHON_VERSION = "3.11"
RUNNER = "ubuntu-24.04"  # a fixed image, not ubuntu-latest, so a runner upgrade is a reviewed change
# Stacks with these names are production unless their QHub file sets `production`: deployed
# last, behind the `production` environment. The same names as qhub.config.model's (a test keeps
# them equal), not imported from there so that reading workflows needs no pydantic.
PRODUCTION_STACKS = frozenset({"prod", "production"})
PRODUCTION_ENVIRONMENT = "production"
# Marks the plan-difference comment so later pushes edit it instead of adding another.
COMMENT_MARKER = "<!-- qhub-plan-diff -->"
# The pull-request label that lets a change deleting or replacing data pass the plan check.
DATA_LOSS_LABEL = "allow-data-loss"

SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository"
HEADER = (
    "# Written by `qhub init` from qhub/cicd. Yours to edit: `qhub validate` warns when the\n"
    "# workflows stop previewing or deploying a stack. Set-up (state backend, OIDC roles,\n"
    "# environments): docs/ci-cd.md.\n"
)
