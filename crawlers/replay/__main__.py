"""`python -m crawlers.replay FOLDER [--port N] [--scale N]`: serve recorded notices until interrupted."""

from __future__ import annotations

import argparse
import sys
import time

from .server import start_replay_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers.replay", description=__doc__)
    parser.add_argument("folder", help="folder of recorded notices (XML documents, JSON API answers)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--scale", type=int, help="repeat each source's records under fresh ids up to N")
    args = parser.parse_args(argv)
    scale = {source: args.scale for source in ("ted", "boamp", "be")} if args.scale else None
    server = start_replay_server(args.folder, host=args.host, port=args.port, scale=scale)
    catalog = server.catalog
    print(
        f"serving {len(catalog.ted)} TED notices, {len(catalog.boamp)} BOAMP records, {len(catalog.be)} BE "
        f"publications on {server.base_url}\n"
        f"  PIB_TED_API_URL={server.base_url} PIB_BOAMP_API_URL={server.base_url} PIB_BE_API_URL={server.base_url}\n"
        f"  feeds: {server.base_url}/feeds/all.rss (.atom), listing: {server.base_url}/listings/all.html",
        file=sys.stderr,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
