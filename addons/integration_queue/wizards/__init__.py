from . import integration_secret_reveal
