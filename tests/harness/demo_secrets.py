"""Signing secrets for the demo partners, to try the API against ``make run``'s server.

    python -m tests.harness.demo_secrets --config=.local/odoo.conf --database=hcsc_demo \
        --url=http://127.0.0.1:8069 --output=.local/demo-partner-secrets.json

Rotates the secret of every integration partner of the addons' demo data the way an
administrator presses *Rotate Secret* (``action_rotate_secret`` as the demo admin: the
previous secret stays valid for the overlap), commits, and writes partner code ->
secret to a git-ignored JSON file readable by its owner only. Secrets are made at run
time; none is ever committed.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from . import odoo_env

DEFAULT_OUTPUT = odoo_env.REPO / ".local" / "demo-partner-secrets.json"


def demo_partners(env):
    """The integration partners the addons' demo data made (by their XML ids)."""
    data = env["ir.model.data"].search(
        [("model", "=", "integration.partner"), ("module", "in", list(odoo_env.OUR_ADDONS))]
    )
    partners = env["integration.partner"].browse(data.mapped("res_id")).exists()
    return partners.filtered("active").sorted("code")


def rotate_secrets(env):
    """A new secret for every demo partner, made as the demo admin: {code: secret}."""
    admin = env.ref("base.user_admin")
    secrets = {}
    for partner in demo_partners(env):
        # the admin must be allowed in the partner's company for Rotate Secret
        action = partner.with_user(admin).with_company(partner.company_id).action_rotate_secret()
        secrets[partner.code] = action["context"]["default_secret"]
    return secrets


def write_secrets_file(path, base_url, database, secrets):
    """Write the secrets as JSON, readable by the owner only, replacing the old file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    content = {
        "base_url": base_url,
        "database": database,
        "inbound_url": f"{base_url}/integration/v1/inbound/<message type>",
        "partners": secrets,
    }
    # a fresh file of our own (mkstemp: O_EXCL, mode 0600, never a left-over or a
    # symlink someone placed), then renamed over the old one
    descriptor, partial = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(content, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return path


def generate(config, database, base_url, output=DEFAULT_OUTPUT):
    """Rotate the demo partners' secrets on ``database`` and write them to ``output``."""
    import odoo  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    odoo.tools.config.parse_config(
        [
            f"--config={config}",
            f"--addons-path={odoo_env.addons_path()}",
            f"--database={database}",
            *odoo_env.db_options(),
        ]
    )
    registry = Registry(database)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        secrets = rotate_secrets(env)
        # written only once the secrets are stored: the file never names a secret
        # the database does not hold
        cr.commit()
    return write_secrets_file(output, base_url, database, secrets)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT))
    args = parser.parse_args(argv)
    path = generate(args.config, args.database, args.url, args.output)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
