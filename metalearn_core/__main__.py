import sys

from metalearn_core.cli import main

sys.exit(main())
