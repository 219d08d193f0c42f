"""The baseline of the cache-hit figure: a minimal Starlette hello-world, served exactly like cryptohub.

    uvicorn bench.hello:app --workers 2 ...   (bench/_env.py starts it with cryptohub's flags)

It answers a small JSON body, as a cache hit does, and does nothing else.
"""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": "world"})


app = Starlette(routes=[Route("/", hello)])
