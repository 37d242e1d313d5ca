"""`--smoke` for every benchmark: tiny sizes, so CI (`.ci/run`) runs each script end to end on every
submission and none can rot; the figures it prints then mean nothing and no target is judged by them."""

import argparse


def parse_arguments(parser: argparse.ArgumentParser, **tiny: int) -> argparse.Namespace:
    """Parse the command line; with `--smoke`, the options named in `tiny` take those values."""
    parser.add_argument(
        "--smoke", action="store_true", help=f"tiny sizes ({', '.join(f'{k}={v}' for k, v in tiny.items())}): CI"
    )
    arguments = parser.parse_args()
    if arguments.smoke:
        print("SMOKE RUN (--smoke): tiny sizes; the figures and verdicts below are not measurements.")
        for name, value in tiny.items():
            setattr(arguments, name, value)
    return arguments
