"""The two set-up commands: ``python3 -m portal run`` and ``python3 -m portal test``.

Standard library only: this runs before anything is installed. It prepares ``.venv``, the
front-end packages and the compiled catalogs, then hands over to ``portal.stack`` inside the
virtual environment.
"""

import sys

from portal import bootstrap

if __name__ == "__main__":
    sys.exit(bootstrap.main(sys.argv[1:]))
