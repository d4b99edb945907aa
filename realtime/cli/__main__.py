"""`python -m realtime.cli`: the same entry point as `poserec`."""
import sys

from . import main

sys.exit(main())
