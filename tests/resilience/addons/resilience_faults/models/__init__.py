from . import resilience_fault
