"""The bare endpoint the pages are measured against: Flask saying hello, nothing else.

.venv/bin/gunicorn --no-control-socket -w 2 -b 127.0.0.1:8001 bench.bare_app:app
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello"
