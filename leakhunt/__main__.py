import sys

from leakhunt.cli.main import main

sys.exit(main())
