from . import controllers, cron_wakeup, models, wizards
