"""PYS3xx: Flask rules. Importing the package registers every one of them; the names the
former single module exported still resolve here."""

from pystd.rules.flask import csrf, debug_mode, global_app, request_json, url_building
from pystd.rules.flask.application import APP_NAMES, FACTORIES, FLASK_CLASSES
from pystd.rules.flask.csrf import FlaskCsrfDisabled
from pystd.rules.flask.debug_mode import FlaskDebugMode, without_arg
from pystd.rules.flask.global_app import FlaskGlobalApp
from pystd.rules.flask.request_json import FlaskRequestJson
from pystd.rules.flask.url_building import FlaskUrlBuiltByHand

__all__ = [
    "APP_NAMES",
    "FACTORIES",
    "FLASK_CLASSES",
    "FlaskCsrfDisabled",
    "FlaskDebugMode",
    "FlaskGlobalApp",
    "FlaskRequestJson",
    "FlaskUrlBuiltByHand",
    "csrf",
    "debug_mode",
    "global_app",
    "request_json",
    "url_building",
    "without_arg",
]
