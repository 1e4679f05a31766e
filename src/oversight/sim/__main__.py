"""``python -m oversight.sim``: the bare RTSP relay, for publishers of your own (TCP only).

``oversight simulate`` runs the relay with simulated cameras; this is the relay alone.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from oversight.sim.rtsp_relay import RtspRelay

log = logging.getLogger("oversight.sim.rtsp_relay")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="RTSP relay for simulated cameras (TCP only)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--user", help="require Basic auth with this user name")
    parser.add_argument("--password", help="the password for --user")
    args = parser.parse_args(argv)
    if (args.user is None) != (args.password is None):
        parser.error("--user and --password go together")
    credentials = (args.user, args.password) if args.user is not None else None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    async def serve() -> None:
        relay = RtspRelay(credentials=credentials)
        await relay.start(args.host, args.port)
        log.info("RTSP relay on %s (basic auth: %s)", relay.url(""), credentials is not None)
        stopping = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):  # clean exit under make or a supervisor
            asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
        await stopping.wait()
        await relay.stop()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
