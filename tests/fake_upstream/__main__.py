"""`python -m tests.fake_upstream --port N`: serve the fake upstream on 127.0.0.1."""

import argparse

from tests.fake_upstream.server import serve

parser = argparse.ArgumentParser(description="cryptohub fake upstream (127.0.0.1 only)")
parser.add_argument("--port", type=int, required=True)
serve(parser.parse_args().port)
