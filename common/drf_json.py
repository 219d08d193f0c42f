"""The REST API's JSON parser: DRF's, with the strict, depth-bounded decoder of common.json_input.

DRF's own JSONParser uses the standard library, which raises RecursionError (an answer of 500)
on a deeply nested body and lets lone surrogates through to the database write. This module
imports no DRF view code: the parser is named in settings, which DRF reads while defining APIView.
"""

import codecs
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding

from common import json_input


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:  # noqa: ANN001 - DRF's signature
        raw = stream.read()
        encoding = get_encoding(parser_context or {})
        try:
            text = raw if codecs.lookup(encoding).name == "utf-8" else raw.decode(encoding)
            return json_input.loads(text)
        except (ValueError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
