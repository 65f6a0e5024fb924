"""The Japanese chapters (issue 22) run under nbval on one leg, Debian 13's (`make test`'s
`--nbval-lax notebooks` collects this folder): tests/worlds.py `japanese_chapters_here` says which
leg and why one is enough. Elsewhere they are left out here, and the learner tier leaves them out too."""
from tests.worlds import japanese_chapters_here

collect_ignore_glob = [] if japanese_chapters_here() else ["*.ipynb"]
