from . import audit
