"""The GitHub Actions workflows of a QHub project, and the check that they still fit its stacks.

Creates nothing: `expected_workflows` returns the text of the workflows `qhub init` writes when a
stack's `ci_cd.type` is `github-actions` (the committed `.github/workflows` of this repository are
that output, and a test keeps them equal); `check_workflows` returns the warnings `qhub validate`
prints when workflows and stack files disagree; `stack_facts` is what a workflow reads from a
stack's QHub file (its cloud, domain, region) so one workflow serves every provider.

Pure functions over files: no Pulumi import, no network, nothing printed. The modules: settings (shared
constants), stacks, workflows (building and YAML), images (the images workflow and its check), checks.
"""

from qhub.cicd.checks import WorkflowUse, check_workflows, read_workflows
from qhub.cicd.settings import ACTIONS, COMMENT_MARKER, DEPLOY_WORKFLOW, IMAGES_WORKFLOW, PRODUCTION_ENVIRONMENT, PRODUCTION_STACKS, PULL_REQUEST_WORKFLOW
from qhub.cicd.stacks import StackCi, promotion_order, stack_facts
from qhub.config.files import project_stacks
from qhub.cicd.workflows import deploy_workflow, expected_workflows, load_workflow, pull_request_workflow

__all__ = [
    "ACTIONS", "COMMENT_MARKER", "DEPLOY_WORKFLOW", "IMAGES_WORKFLOW", "PRODUCTION_ENVIRONMENT", "PRODUCTION_STACKS",
    "PULL_REQUEST_WORKFLOW", "StackCi", "WorkflowUse", "check_workflows", "deploy_workflow",
    "expected_workflows", "load_workflow", "project_stacks", "promotion_order", "pull_request_workflow",
    "read_workflows", "stack_facts",
]
