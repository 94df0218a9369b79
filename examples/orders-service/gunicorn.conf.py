"""Production server settings: `gunicorn -c gunicorn.conf.py 'orders.app:create_app()'`."""

bind = "0.0.0.0:8080"
worker_class = "gthread"
workers = 1  # SQLite: a single process owns the database file
threads = 16
timeout = 60
graceful_timeout = 20

accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "utc": {
            "()": "orders.logging_format.UtcFormatter",
            "format": "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S",
        }
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "utc"}},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
    },
}
