"""The send core's own work per message, in one process: the demo's real UA rendered once, then N recipients
spliced into it and written as bytes (what a batch does per email before the SMTP session takes it).
No relay, no workers, no database writes per message: a figure that the load of a shared machine moves little,
to compare two versions of the templates or of `sending/wire.py`.

    .venv/bin/python bench/compose.py [--messages 20000] [--rounds 3] [--dkim none,rsa2048,ed25519]

`--dkim` times the same messages for an office without a DKIM key and with each key named, in one run.
"""

import argparse
import logging
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dkim", default="none", help="comma-separated: none, rsa2048, rsa1024, ed25519")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from mobilise import create_app

    url = f"sqlite:///{tempfile.mkdtemp()}/compose.sqlite"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "PUBLIC_BASE_URL": "https://act.example.org"}
    )
    logging.disable(logging.INFO)  # the migrations' lines
    with app.app_context():
        upgrade()
        from builders import make_office

        from mobilise.cases.service import create_case
        from mobilise.cases.ua_document import parse_ua_document
        from mobilise.clock import utcnow
        from mobilise.demo import SEED_UA
        from mobilise.sending.composer import Composer
        from mobilise.sending.preview import PreviewIn, _unsaved_mailing

        fields = parse_ua_document(SEED_UA.read_text(encoding="utf-8"))
        fields["deadline"] = (utcnow().date() + timedelta(days=30)).isoformat()
        from send import dkim_key

        office, case = make_office(), create_case(fields)
        unsigned = None
        for kind in args.dkim.split(","):
            office.dkim_selector, office.dkim_private_key = (
                (None, None) if kind == "none" else ("bench", dkim_key(kind))
            )
            composer = Composer(_unsaved_mailing(case, office, PreviewIn(stage="launch")), preview=True)
            size = len(composer.spliced(0, email="a@example.net", first_name="Zoë", language="en").as_bytes())
            best = float("inf")
            for _ in range(args.rounds):
                started = time.perf_counter()
                for n in range(args.messages):
                    composer.spliced(n, email=f"person{n}@example.net", first_name="Zoë", language="en").as_bytes()
                best = min(best, (time.perf_counter() - started) / args.messages)
            unsigned = best if kind == "none" else unsigned
            extra = f", {(best - unsigned) * 1e6:+.1f} µs signing" if unsigned is not None and kind != "none" else ""
            print(
                f"DKIM {kind}: {best * 1e6:.1f} µs per message (best of {args.rounds} × {args.messages:,}), "
                f"{size:,} bytes each{extra}"
            )


if __name__ == "__main__":
    main()
