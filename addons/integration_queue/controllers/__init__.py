from . import main
from . import openapi
